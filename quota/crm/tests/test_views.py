"""CRM record pages: lists, detail pages, forms and actions, through the browser's requests."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from quota.accounts.models import Role
from quota.activities.models import Activity, ActivityKind
from quota.crm.models import Company, Deal, DealStageChange, Lead
from quota.crm.services import deal_create
from quota.testing.factories import (
    CallFactory,
    CompanyFactory,
    ContactFactory,
    DealFactory,
    LeadFactory,
    UserFactory,
    default_pipeline,
    lead_source,
    loss_reason,
)
from quota.testing.views import queries_for

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def people(people):
    """The usual cast (conftest.py) and a viewer in the north team."""
    return {**people, "viewer": UserFactory(team=people["rep"].team, role=Role.VIEWER)}


# --------------------------------------------------------------------------- lists


CRM_LISTS = ["crm:company_list", "crm:contact_list", "crm:lead_list", "crm:deal_list"]


@pytest.mark.parametrize("url_name", CRM_LISTS)
def test_list_page_answers_a_signed_in_user_and_sends_others_to_log_in(client, people, url_name):
    assert client.get(reverse(url_name)).status_code == 302
    client.force_login(people["rep"])
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    assert b"New</a>" in response.content


def test_rep_sees_their_teams_deals_but_not_another_teams(client, people):
    DealFactory(title="Ours", owner=people["teammate"])
    DealFactory(title="Theirs", owner=people["south_rep"])
    client.force_login(people["rep"])
    content = client.get(reverse("crm:deal_list")).content.decode()
    assert "Ours" in content
    assert "Theirs" not in content


def test_viewer_gets_no_new_button(client, people):
    client.force_login(people["viewer"])
    assert b"New</a>" not in client.get(reverse("crm:deal_list")).content


def _titles(response):
    return [deal.title for deal in response.context["page"].object_list]


def test_deal_list_searches_filters_and_sorts(client, people):
    rep = people["rep"]
    DealFactory(title="Laptops for Acme", owner=rep, amount=Decimal("500"))
    DealFactory(title="Servers", owner=rep, amount=Decimal("3000"))
    DealFactory(title="Printers", owner=rep, amount=Decimal("1500"))
    client.force_login(rep)
    url = reverse("crm:deal_list")

    assert _titles(client.get(url, {"q": "laptops"})) == ["Laptops for Acme"]
    assert _titles(client.get(url, {"q": "acme laptop"})) == ["Laptops for Acme"]  # every word must match
    assert sorted(_titles(client.get(url, {"min_amount": "1000"}))) == ["Printers", "Servers"]
    assert _titles(client.get(url, {"sort": "-amount"})) == ["Servers", "Printers", "Laptops for Acme"]
    assert _titles(client.get(url, {"sort": "amount"})) == ["Laptops for Acme", "Printers", "Servers"]
    # Only whitelisted columns sort; anything else falls back to the default order instead of failing.
    assert client.get(url, {"sort": "owner__password"}).status_code == 200


def _names(response):
    return [str(record) for record in response.context["page"].object_list]


def test_company_list_visibility_search_filter_and_sort(client, people):
    rep = people["rep"]
    CompanyFactory(name="Acme Logistics", owner=rep, country="Poland", city="Gdansk")
    CompanyFactory(name="Blue Fjord", owner=people["teammate"], country="Sweden", city="Oslo")
    CompanyFactory(name="Corvid Labs", owner=rep, country="Poland", city="Berlin")
    CompanyFactory(name="Hidden South", owner=people["south_rep"])
    client.force_login(rep)
    url = reverse("crm:company_list")
    assert _names(client.get(url)) == ["Acme Logistics", "Blue Fjord", "Corvid Labs"]
    assert _names(client.get(url, {"q": "fjord"})) == ["Blue Fjord"]
    assert _names(client.get(url, {"country": "Poland"})) == ["Acme Logistics", "Corvid Labs"]
    assert _names(client.get(url, {"owner": people["teammate"].pk})) == ["Blue Fjord"]
    assert _names(client.get(url, {"sort": "city"})) == ["Corvid Labs", "Acme Logistics", "Blue Fjord"]
    assert _names(client.get(url, {"sort": "-name"})) == ["Corvid Labs", "Blue Fjord", "Acme Logistics"]


def test_contact_list_visibility_search_filter_and_sort(client, people):
    rep = people["rep"]
    acme = CompanyFactory(name="Acme", owner=rep)
    ContactFactory(first_name="Jan", last_name="Kowalski", email="jan@acme.pl", company=acme, owner=rep)
    ContactFactory(
        first_name="Anna", last_name="Nowak", email="anna@other.pl", company=CompanyFactory(name="Other", owner=rep), owner=rep
    )
    ContactFactory(first_name="Hidden", last_name="South", owner=people["south_rep"])
    client.force_login(rep)
    url = reverse("crm:contact_list")
    assert _names(client.get(url)) == ["Jan Kowalski", "Anna Nowak"]
    assert _names(client.get(url, {"q": "jan kowal"})) == ["Jan Kowalski"]
    assert _names(client.get(url, {"company": acme.pk})) == ["Jan Kowalski"]
    assert _names(client.get(url, {"sort": "-company"})) == ["Anna Nowak", "Jan Kowalski"]
    assert _names(client.get(url, {"sort": "email"})) == ["Anna Nowak", "Jan Kowalski"]


def test_lead_list_visibility_search_filter_and_sort(client, people):
    rep = people["rep"]
    LeadFactory(title="Website enquiry", company_name="Zeta", owner=rep)
    LeadFactory(title="Referral from Jan", company_name="Alpha", owner=people["teammate"], source=lead_source("referral"))
    LeadFactory(title="Hidden", owner=people["south_rep"])
    client.force_login(rep)
    url = reverse("crm:lead_list")
    assert sorted(_names(client.get(url))) == ["Referral from Jan", "Website enquiry"]
    assert _names(client.get(url, {"q": "referral"})) == ["Referral from Jan"]
    assert _names(client.get(url, {"source": "referral"})) == ["Referral from Jan"]  # a source picked by name
    assert _names(client.get(url, {"sort": "company_name"})) == ["Referral from Jan", "Website enquiry"]
    assert _names(client.get(url, {"sort": "-company_name"})) == ["Website enquiry", "Referral from Jan"]


def test_filter_and_search_htmx_request_gets_only_the_table(client, people):
    DealFactory(title="Servers", owner=people["rep"])
    client.force_login(people["rep"])
    response = client.get(reverse("crm:deal_list"), {"q": "serv"}, HTTP_HX_TARGET="record-table", **HTMX)
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="record-table"')
    assert "Servers" in content and "<html" not in content


def test_filter_choices_offer_only_visible_owners_and_no_huge_selects(client, people):
    client.force_login(people["rep"])
    form = client.get(reverse("crm:deal_list")).context["filter_form"]
    assert set(form.fields["owner"].queryset) == {people["rep"], people["teammate"], people["viewer"]}
    assert form.fields["company"].widget.input_type == "number"  # a picker, never a <select> of every company


def test_list_counts_at_most_the_cap(client, people, monkeypatch):
    from quota.core.views import CappedPaginator

    monkeypatch.setattr(CappedPaginator, "cap", 2)
    for _ in range(3):
        CompanyFactory(owner=people["rep"])
    client.force_login(people["rep"])
    response = client.get(reverse("crm:company_list"))
    assert response.context["page"].paginator.is_capped
    assert b"of more than 2" in response.content


# Queries per list page, whatever the number of rows: session, user, the filter form's small
# choice lists, one bounded count and one page of rows with its relations joined.
# One more than the list itself needs: the unread-notifications count in the top bar.
# Companies: one more since the filter offers churn reasons (their choices are one query).
PINNED_QUERIES = {"crm:company_list": 7, "crm:contact_list": 6, "crm:lead_list": 7, "crm:deal_list": 10}


def _make(url_name, owner):
    if url_name == "crm:company_list":
        return CompanyFactory(owner=owner)
    if url_name == "crm:contact_list":
        return ContactFactory(owner=owner, company=CompanyFactory(owner=owner))
    if url_name == "crm:lead_list":
        return LeadFactory(owner=owner)
    return DealFactory(owner=owner, company=CompanyFactory(owner=owner))


@pytest.mark.parametrize("url_name", CRM_LISTS)
def test_list_query_count_is_pinned_and_does_not_grow_with_rows(client, people, url_name):
    client.force_login(people["director"])
    url = reverse(url_name)
    for _ in range(3):
        _make(url_name, people["rep"])
    client.get(url)  # the first request of a session touches it once more
    few = queries_for(client, url)
    for _ in range(27):
        _make(url_name, people["south_rep"])
    assert queries_for(client, url) == few == PINNED_QUERIES[url_name]


# --------------------------------------------------------------------------- detail pages


def test_detail_of_an_invisible_record_is_404(client, people):
    theirs = DealFactory(owner=people["south_rep"])
    client.force_login(people["rep"])
    assert client.get(reverse("crm:deal_detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("crm:deal_edit", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("crm:company_detail", args=[theirs.company.pk])).status_code == 404


def test_deal_detail_shows_timeline_stage_history_and_breadcrumbs(client, people):
    rep = people["rep"]
    deal = deal_create(by=rep, title="Fleet renewal", owner=rep)
    CallFactory(deal=deal, owner=rep, subject="Discovery call")
    CallFactory(owner=rep, subject="Unrelated call")
    client.force_login(rep)
    content = client.get(reverse("crm:deal_detail", args=[deal.pk])).content.decode()
    assert "Discovery call" in content and "Unrelated call" not in content
    assert "Opened in Qualification" in content
    assert 'class="breadcrumbs"' in content and reverse("crm:deal_list") in content
    assert reverse("crm:deal_win", args=[deal.pk]) in content


def test_company_timeline_includes_its_deals_and_contacts(client, people):
    rep = people["rep"]
    company = CompanyFactory(owner=rep)
    CallFactory(deal=DealFactory(owner=rep, company=company), owner=rep, subject="About the deal")
    CallFactory(contact=ContactFactory(company=company, owner=rep), owner=rep, subject="With the buyer")
    client.force_login(rep)
    content = client.get(reverse("crm:company_detail", args=[company.pk])).content.decode()
    assert "About the deal" in content and "With the buyer" in content


def test_teammates_deal_is_readable_but_offers_no_changes(client, people):
    deal = DealFactory(owner=people["teammate"])
    client.force_login(people["rep"])
    response = client.get(reverse("crm:deal_detail", args=[deal.pk]))
    assert response.status_code == 200
    assert response.context["actions"] == []


# --------------------------------------------------------------------------- create and edit


def test_create_with_bad_input_shows_errors_next_to_the_fields_and_keeps_what_was_typed(client, people):
    client.force_login(people["rep"])
    response = client.post(
        reverse("crm:deal_create"),
        {
            "title": "",
            "amount": "-5",
            "currency": "EUR",
            "pipeline": default_pipeline().pk,
            "business_type": "new",
            "owner": people["rep"].pk,
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "title" in form.errors and "amount" in form.errors
    content = response.content.decode()
    assert 'value="-5"' in content  # what the user typed is still there
    amount_field = content.split('for="id_amount"')[1].split('class="field')[0]
    assert 'class="errorlist"' in amount_field  # the error sits with its field
    assert not Deal.objects.exists()


def test_create_deal_goes_through_the_service_and_records_its_first_stage(client, people):
    rep = people["rep"]
    company = CompanyFactory(owner=rep)
    client.force_login(rep)
    response = client.post(
        reverse("crm:deal_create"),
        {
            "title": "Fleet",
            "company": company.pk,
            "pipeline": default_pipeline().pk,
            "amount": "1200.50",
            "currency": "EUR",
            "business_type": "new",
            "owner": rep.pk,
        },
    )
    deal = Deal.objects.get(title="Fleet")
    assert response.status_code == 302 and response["Location"] == reverse("crm:deal_detail", args=[deal.pk])
    assert deal.owner == rep and deal.company == company and deal.amount == Decimal("1200.50")
    assert DealStageChange.objects.filter(deal=deal, from_stage=None).exists()


def test_create_refuses_a_company_the_user_cannot_see(client, people):
    hidden = CompanyFactory(owner=people["south_rep"])
    client.force_login(people["rep"])
    response = client.post(reverse("crm:contact_create"), {"last_name": "Nowak", "company": hidden.pk, "owner": people["rep"].pk})
    assert "company" in response.context["form"].errors
    assert not hidden.contacts.exists()


def test_rep_cannot_give_a_new_record_to_another_team(client, people):
    client.force_login(people["rep"])
    response = client.post(reverse("crm:company_create"), {"name": "Acme", "owner": people["south_rep"].pk})
    assert "owner" in response.context["form"].errors
    assert not Company.objects.filter(name="Acme").exists()


def test_new_record_belongs_to_its_creator_by_default(client, people):
    client.force_login(people["rep"])
    form = client.get(reverse("crm:company_create")).context["form"]
    assert form["owner"].value() == people["rep"].pk


def test_edit_of_someone_elses_deal_is_refused_and_changes_nothing(client, people):
    deal = DealFactory(title="Teammate's", owner=people["teammate"], amount=Decimal("100"))
    client.force_login(people["rep"])
    url = reverse("crm:deal_edit", args=[deal.pk])
    assert client.get(url).status_code == 403
    response = client.post(url, {"title": "Mine now", "amount": "1", "currency": "EUR", "business_type": "new"})
    assert response.status_code == 403
    assert b"belongs to another person or team" in response.content
    deal.refresh_from_db()
    assert deal.title == "Teammate's" and deal.amount == Decimal("100")


def test_edit_saves_only_through_the_service(client, people):
    rep = people["rep"]
    deal = DealFactory(title="Old", owner=rep, company=CompanyFactory(owner=rep))
    client.force_login(rep)
    response = client.post(
        reverse("crm:deal_edit", args=[deal.pk]),
        {
            "title": "New title",
            "company": deal.company.pk,
            "owner": rep.pk,
            "amount": "99",
            "currency": "EUR",
            "business_type": "new",
        },
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.title == "New title" and deal.amount == Decimal("99")


def test_autocomplete_lists_only_visible_records(client, people):
    CompanyFactory(name="Acme North", owner=people["rep"])
    CompanyFactory(name="Acme South", owner=people["south_rep"])
    client.force_login(people["rep"])
    content = client.get(reverse("crm:company_autocomplete"), {"q": "acme"}).content.decode()
    assert "Acme North" in content and "Acme South" not in content


# --------------------------------------------------------------------------- quick log, convert, win, lose


def test_quick_log_a_call_from_a_deal_in_two_clicks(client, people):
    rep = people["rep"]
    deal = DealFactory(owner=rep, contact=None)
    client.force_login(rep)
    url = reverse("activities:quick_log_deal", args=[deal.pk])
    form_html = client.get(url, {"kind": "call"}, **HTMX).content.decode()  # click 1: the form, with defaults
    assert "<html" not in form_html and 'name="direction"' in form_html
    response = client.post(  # click 2: Save
        url,
        {
            "kind": "call",
            "subject": "Follow-up",
            "direction": "out",
            "answered": "on",
            "duration_seconds": "5",
            "occurred_at": timezone.now().strftime("%Y-%m-%dT%H:%M"),
        },
        **HTMX,
    )
    activity = Activity.objects.get()
    assert (activity.kind, activity.deal, activity.owner, activity.company) == (ActivityKind.CALL, deal, rep, deal.company)
    assert activity.duration_seconds == 300
    assert response["HX-Retarget"] == "#timeline"  # the timeline is swapped in place
    assert "Follow-up" in response.content.decode()


def test_quick_log_from_a_contact_without_htmx_redirects_back(client, people):
    rep = people["rep"]
    contact = ContactFactory(owner=rep, company=CompanyFactory(owner=rep))
    client.force_login(rep)
    response = client.post(
        reverse("activities:quick_log_contact", args=[contact.pk]),
        {"kind": "meeting", "occurred_at": "2026-01-05T10:00", "duration_seconds": "30"},
    )
    assert response.status_code == 302
    activity = Activity.objects.get()
    assert activity.contact == contact and activity.company == contact.company and activity.kind == ActivityKind.MEETING


def test_viewer_cannot_log_activities(client, people):
    deal = DealFactory(owner=people["rep"])
    client.force_login(people["viewer"])
    response = client.post(
        reverse("activities:quick_log_deal", args=[deal.pk]),
        {"kind": "email", "direction": "in", "occurred_at": "2026-01-05T10:00"},
    )
    assert response.status_code == 403
    assert not Activity.objects.exists()


def test_convert_a_lead(client, people):
    rep = people["rep"]
    lead = LeadFactory(owner=rep, title="Website enquiry", company_name="Nowak sp. z o.o.")
    client.force_login(rep)
    response = client.post(
        reverse("crm:lead_convert", args=[lead.pk]),
        {"deal_title": "Nowak: 20 laptops", "amount": "24000", "currency": "EUR", "pipeline": default_pipeline().pk},
    )
    deal = Deal.objects.get(lead=lead)
    assert response.status_code == 302 and response["Location"] == reverse("crm:deal_detail", args=[deal.pk])
    lead.refresh_from_db()
    assert lead.status == "converted" and deal.title == "Nowak: 20 laptops" and deal.company.name == "Nowak sp. z o.o."


def test_a_converted_lead_shows_no_other_teams_contact_on_the_deal_page(client, people):
    """The reported case: the lead named a South customer; the rep's deal page showed its contact's name."""
    rep = people["rep"]
    theirs = CompanyFactory(name="Globex", owner=people["south_rep"])
    ContactFactory(company=theirs, email="ceo@globex.example", first_name="Hank", last_name="Scorpio")
    lead = LeadFactory(owner=rep, company_name="Globex", email="ceo@globex.example", first_name="", last_name="Enquirer")
    client.force_login(rep)
    data = {"deal_title": "Globex: 5 seats", "amount": "5000", "currency": "EUR", "pipeline": default_pipeline().pk}
    response = client.post(reverse("crm:lead_convert", args=[lead.pk]), data)
    deal = Deal.objects.get(lead=lead)
    page = client.get(response["Location"]).content.decode()
    assert deal.company != theirs and deal.contact.owner == rep
    assert "Enquirer" in page and "Scorpio" not in page


def test_converting_twice_is_a_form_error(client, people):
    rep = people["rep"]
    lead = LeadFactory(owner=rep)
    client.force_login(rep)
    data = {"deal_title": "X", "amount": "0", "currency": "EUR"}
    client.post(reverse("crm:lead_convert", args=[lead.pk]), data)
    response = client.post(reverse("crm:lead_convert", args=[lead.pk]), data)
    assert response.status_code == 200 and "already" in str(response.context["form"].non_field_errors())
    assert Deal.objects.filter(lead=lead).count() == 1


def test_disqualify_needs_a_reason(client, people):
    lead = LeadFactory(owner=people["rep"])
    client.force_login(people["rep"])
    response = client.post(reverse("crm:lead_disqualify", args=[lead.pk]), {"disqualified_reason": " "})
    assert "disqualified_reason" in response.context["form"].errors
    assert Lead.objects.get(pk=lead.pk).status == "open"


def test_win_a_deal(client, people):
    rep = people["rep"]
    deal = deal_create(by=rep, title="Win me", owner=rep, amount=Decimal("1000"))
    client.force_login(rep)
    response = client.post(reverse("crm:deal_win", args=[deal.pk]), {"amount": "1250"}, **HTMX)
    assert response.status_code == 200 and response["HX-Redirect"] == reverse("crm:deal_detail", args=[deal.pk])
    deal.refresh_from_db()
    assert deal.status == "won" and deal.amount == Decimal("1250") and deal.closed_at is not None
    assert DealStageChange.objects.filter(deal=deal, to_status="won").exists()


def test_lose_without_a_reason_shows_the_error_and_keeps_the_deal_open(client, people):
    rep = people["rep"]
    deal = deal_create(by=rep, title="Lose me", owner=rep)
    client.force_login(rep)
    response = client.post(reverse("crm:deal_lose", args=[deal.pk]), {"note": "They went quiet"}, **HTMX)
    assert response.status_code == 200
    assert "loss_reason" in response.context["form"].errors
    assert "They went quiet" in response.content.decode()
    deal.refresh_from_db()
    assert deal.status == "open"


def test_lose_with_a_follow_up_date_creates_a_task_for_the_owner(client, people):
    rep = people["rep"]
    deal = deal_create(by=rep, title="Lose me", owner=rep)
    day = timezone.localdate() + dt.timedelta(days=90)
    client.force_login(rep)
    client.post(reverse("crm:deal_lose", args=[deal.pk]), {"loss_reason": loss_reason().pk, "follow_up_on": day.isoformat()})
    deal.refresh_from_db()
    assert deal.status == "lost" and deal.loss_reason == loss_reason()
    task = Activity.objects.get(kind=ActivityKind.TASK)
    assert (task.deal, task.owner, timezone.localtime(task.occurred_at).date()) == (deal, rep, day)


def test_lose_without_a_date_follows_up_after_the_reasons_delay(client, people):
    rep = people["rep"]
    deal = deal_create(by=rep, title="Lose me", owner=rep)
    client.force_login(rep)
    client.post(reverse("crm:deal_lose", args=[deal.pk]), {"loss_reason": loss_reason("Competitor chosen").pk})
    assert Deal.objects.get(pk=deal.pk).status == "lost"
    assert not Activity.objects.exists()  # this reason has no follow-up delay


def test_picking_a_loss_reason_proposes_its_follow_up_date(client, people):
    rep = people["rep"]
    deal = deal_create(by=rep, title="Lose me", owner=rep)
    reason = loss_reason("No budget")  # follows up after 180 days
    client.force_login(rep)
    form = client.get(reverse("crm:deal_lose", args=[deal.pk]), {"loss_reason": reason.pk}, **HTMX).context["form"]
    assert form.initial["follow_up_on"] == timezone.localdate() + dt.timedelta(days=180)


def test_a_follow_up_in_the_past_is_refused(client, people):
    rep = people["rep"]
    deal = deal_create(by=rep, title="Lose me", owner=rep)
    client.force_login(rep)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    response = client.post(reverse("crm:deal_lose", args=[deal.pk]), {"loss_reason": loss_reason().pk, "follow_up_on": yesterday})
    assert "follow_up_on" in response.context["form"].errors
    assert Deal.objects.get(pk=deal.pk).status == "open"


def test_rep_cannot_win_a_teammates_deal(client, people):
    deal = DealFactory(owner=people["teammate"])
    client.force_login(people["rep"])
    response = client.post(reverse("crm:deal_win", args=[deal.pk]), {})
    assert response.status_code == 403
    assert Deal.objects.get(pk=deal.pk).status == "open"
