"""Custom fields in the record forms and on the detail pages, through the browser's requests."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quota.accounts.models import Team
from quota.crm.custom_field_forms import PREFIX
from quota.crm.forms import CompanyForm
from quota.crm.models import Company, CustomField, Deal, DealStageChange, Lead
from quota.testing.factories import CompanyFactory, DealFactory, LeadFactory, UserFactory, default_pipeline, lead_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep():
    return UserFactory(team=Team.objects.create(name="North"))


@pytest.fixture
def deal_fields():
    """One custom field of every type the definitions support, on deals."""
    CustomField.objects.create(target="deal", key="seats", label="Seats", field_type="number", required=True, position=1)
    CustomField.objects.create(target="deal", key="renewal", label="Renewal date", field_type="date", position=2)
    CustomField.objects.create(
        target="deal", key="tier", label="Tier", field_type="choice", choices=["gold", "silver"], position=3
    )
    CustomField.objects.create(target="deal", key="note", label="Note", field_type="text", position=4)


def new_deal(rep, **custom):
    return {
        "title": "Fleet",
        "pipeline": default_pipeline().pk,
        "amount": "100",
        "currency": "EUR",
        "business_type": "new",
        "owner": rep.pk,
        **{PREFIX + key: value for key, value in custom.items()},
    }


def field_html(content: str, key: str) -> str:
    """The markup of one field's box in a rendered form (label, input, errors)."""
    return content.split(f'for="id_{PREFIX}{key}"')[1].split('<div class="field')[0]


def test_the_form_shows_every_custom_field_with_its_type_and_requirement(client, rep, deal_fields):
    client.force_login(rep)
    response = client.get(reverse("crm:deal_create"))
    fields = response.context["form"].fields
    assert [name for name in fields if name.startswith(PREFIX)] == [PREFIX + k for k in ("seats", "renewal", "tier", "note")]
    content = response.content.decode()
    assert 'type="number"' in field_html(content, "seats") and "required" in field_html(content, "seats")
    assert 'type="date"' in field_html(content, "renewal") and "required" not in field_html(content, "renewal")
    assert '<option value="gold">gold</option>' in field_html(content, "tier")
    assert 'type="text"' in field_html(content, "note")
    assert ">Renewal date</label>" in content


def test_a_new_deal_saves_its_custom_values_through_the_service(client, rep, deal_fields):
    client.force_login(rep)
    response = client.post(
        reverse("crm:deal_create"), new_deal(rep, seats="12.50", renewal="2027-01-31", tier="gold", note="  Fleet of vans ")
    )
    deal = Deal.objects.get(title="Fleet")
    assert response.status_code == 302
    assert deal.custom == {"seats": 12.5, "renewal": "2027-01-31", "tier": "gold", "note": "Fleet of vans"}
    assert DealStageChange.objects.filter(deal=deal, from_stage=None).exists()  # deal_create recorded its first stage


def test_empty_optional_fields_are_left_out(client, rep, deal_fields):
    client.force_login(rep)
    client.post(reverse("crm:deal_create"), new_deal(rep, seats="3", renewal="", tier="", note=""))
    assert Deal.objects.get().custom == {"seats": 3}


@pytest.mark.parametrize(
    ("custom", "key", "typed"),
    [
        ({"seats": "many"}, "seats", "many"),
        ({"seats": ""}, "seats", None),  # required
        ({"seats": "1", "renewal": "31/01/2027"}, "renewal", "31/01/2027"),
        ({"seats": "1", "tier": "bronze"}, "tier", None),  # not one of the choices
    ],
)
def test_a_bad_value_is_refused_next_to_its_field_and_what_was_typed_stays(client, rep, deal_fields, custom, key, typed):
    client.force_login(rep)
    response = client.post(reverse("crm:deal_create"), new_deal(rep, note="Keep me", **custom))
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == [PREFIX + key] and len(form.errors[PREFIX + key]) == 1
    content = response.content.decode()
    assert 'class="errorlist"' in field_html(content, key)  # the error sits with its field
    if typed:
        assert f'value="{typed}"' in field_html(content, key)
    assert 'value="Keep me"' in field_html(content, "note") and 'value="Fleet"' in content
    assert not Deal.objects.exists()


def test_the_edit_form_is_filled_in_and_saves_changes(client, rep, deal_fields):
    deal = DealFactory(owner=rep, company=CompanyFactory(owner=rep), custom={"seats": 4, "renewal": "2027-03-01", "tier": "gold"})
    client.force_login(rep)
    url = reverse("crm:deal_edit", args=[deal.pk])
    content = client.get(url).content.decode()
    assert 'value="4"' in field_html(content, "seats")
    assert 'value="2027-03-01"' in field_html(content, "renewal")
    assert '<option value="gold" selected>' in field_html(content, "tier")
    data = {
        "title": deal.title,
        "company": deal.company.pk,
        "owner": rep.pk,
        "amount": "100",
        "currency": "EUR",
        "business_type": "new",
        PREFIX + "seats": "5",
        PREFIX + "renewal": "",  # cleared
        PREFIX + "tier": "silver",
        PREFIX + "note": "Two sites",
    }
    assert client.post(url, data).status_code == 302
    deal.refresh_from_db()
    assert deal.custom == {"seats": 5, "tier": "silver", "note": "Two sites"}


def test_a_rejected_edit_keeps_the_stored_values(client, rep, deal_fields):
    deal = DealFactory(owner=rep, custom={"seats": 4})
    client.force_login(rep)
    data = {"title": deal.title, "owner": rep.pk, "amount": "1", "currency": "EUR", "business_type": "new", PREFIX + "seats": "x"}
    response = client.post(reverse("crm:deal_edit", args=[deal.pk]), data)
    assert PREFIX + "seats" in response.context["form"].errors
    deal.refresh_from_db()
    assert deal.custom == {"seats": 4}


def test_companies_contacts_and_leads_get_their_own_fields(client, rep):
    CustomField.objects.create(target="lead", key="budget", label="Budget", field_type="number")
    CustomField.objects.create(
        target="company", key="segment", label="Segment", field_type="choice", choices=["SMB", "Enterprise"]
    )
    client.force_login(rep)
    assert PREFIX + "budget" in client.get(reverse("crm:lead_create")).context["form"].fields
    assert PREFIX + "segment" not in client.get(reverse("crm:lead_create")).context["form"].fields
    assert PREFIX + "segment" in client.get(reverse("crm:company_create")).context["form"].fields
    assert not any(name.startswith(PREFIX) for name in client.get(reverse("crm:contact_create")).context["form"].fields)

    response = client.post(reverse("crm:company_create"), {"name": "Acme", "owner": rep.pk, PREFIX + "segment": "SMB"})
    assert response.status_code == 302 and Company.objects.get(name="Acme").custom == {"segment": "SMB"}
    lead = LeadFactory(owner=rep, source=lead_source())
    data = {"title": lead.title, "source": lead.source.pk, "status": "open", "owner": rep.pk, PREFIX + "budget": "2500"}
    assert client.post(reverse("crm:lead_edit", args=[lead.pk]), data).status_code == 302
    assert Lead.objects.get(pk=lead.pk).custom == {"budget": 2500}


def test_records_without_custom_values_are_unchanged(client, rep):
    client.force_login(rep)
    form = client.get(reverse("sales:offer_create")).context["form"]
    assert not any(name.startswith(PREFIX) for name in form.fields)
    company_form = CompanyForm({"name": "Acme", "owner": rep.pk}, user=rep)  # no definitions: no `custom` handed on
    assert company_form.is_valid() and "custom" not in company_form.cleaned_data


def test_the_records_own_check_lands_next_to_the_field(rep, deal_fields):
    """A service's ValidationError on `custom` ("key: message") is placed with its field; unknown keys stay general."""
    from quota.crm.forms import DealForm

    form = DealForm({}, user=rep)
    form.is_valid()
    form.add_error(None, ValidationError({"custom": ["tier: Tier is no longer offered.", "colour: no such field"]}))
    assert "Tier is no longer offered." in form.errors[PREFIX + "tier"]
    assert any("colour: no such field" in error for error in form.non_field_errors())


def test_a_stale_value_of_a_deleted_definition_does_not_block_the_edit(client, rep, deal_fields):
    deal = DealFactory(owner=rep, custom={"seats": 2})
    Deal.objects.filter(pk=deal.pk).update(custom={"seats": 2, "colour": "red"})  # its definition was deleted
    client.force_login(rep)
    data = {"title": "Renamed", "owner": rep.pk, "amount": "1", "currency": "EUR", "business_type": "new", PREFIX + "seats": "2"}
    assert client.post(reverse("crm:deal_edit", args=[deal.pk]), data).status_code == 302
    deal.refresh_from_db()
    assert deal.title == "Renamed" and deal.custom == {"seats": 2}


def test_the_detail_page_shows_the_values(client, rep, deal_fields):
    deal = DealFactory(owner=rep, custom={"seats": 1200, "renewal": "2027-01-31", "note": "Two sites"})
    client.force_login(rep)
    response = client.get(reverse("crm:deal_detail", args=[deal.pk]))
    assert response.context["custom_fields"] == [("Seats", 1200), ("Renewal date", dt.date(2027, 1, 31)), ("Note", "Two sites")]
    content = response.content.decode()
    assert "<dt>Seats</dt><dd>1,200</dd>" in content and '<time datetime="2027-01-31">' in content and "Two sites" in content


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(number=st.decimals(min_value=-(10**9), max_value=10**9, places=4, allow_nan=False, allow_infinity=False))
def test_a_typed_number_is_stored_and_shown_again_as_the_same_number(rep, number):
    CustomField.objects.get_or_create(target="company", key="score", defaults={"label": "Score", "field_type": "number"})
    form = CompanyForm({"name": "Acme", "owner": rep.pk, PREFIX + "score": str(number)}, user=rep)
    assert form.is_valid(), form.errors
    stored = form.cleaned_data["custom"]["score"]
    assert Decimal(str(stored)) == number
    again = CompanyForm(instance=Company(name="Acme", custom={"score": stored}), user=rep)
    assert Decimal(str(again.initial[PREFIX + "score"])) == number


def test_deeply_nested_or_huge_text_in_a_form_is_refused_next_to_its_field(client, rep, deal_fields):
    """A text field takes what is typed as text: 20,000 brackets are not parsed, but they are too long to keep."""
    client.force_login(rep)
    deep = "[" * 20_000 + "]" * 20_000
    response = client.post(reverse("crm:deal_create"), new_deal(rep, seats="1", note=deep))
    assert response.status_code == 200
    assert "longer than 10,000 characters" in field_html(response.content.decode(), "note")
    assert not Deal.objects.exists()


def test_a_yes_or_no_field_is_stored_as_true_or_false_and_left_out_when_unknown(client, rep, deal_fields):
    CustomField.objects.create(target="deal", key="churned", label="Churned", field_type="boolean", position=5)
    client.force_login(rep)
    client.post(reverse("crm:deal_create"), new_deal(rep, seats="3", churned="false"))
    client.post(reverse("crm:deal_create"), {**new_deal(rep, seats="4", churned="unknown"), "title": "Vans"})
    assert Deal.objects.get(title="Fleet").custom == {"seats": 3, "churned": False}
    assert Deal.objects.get(title="Vans").custom == {"seats": 4}
    with pytest.raises(ValidationError, match="not a valid Yes or no for Churned"):
        DealFactory(custom={"seats": 1, "churned": "maybe"}).full_clean()
