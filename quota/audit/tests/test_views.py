"""The audit page (who may read it, its filters and export) and the change history on record pages."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from openpyxl import load_workbook

from quota.accounts.models import Role, Team, User
from quota.core.services import record_update
from quota.crm import services as crm
from quota.crm.models import Company, CustomField, Deal
from quota.testing.audit import recorded
from quota.testing.factories import CompanyFactory, ContactFactory, UserFactory, default_pipeline

pytestmark = pytest.mark.django_db

DAY_ONE = dt.datetime(2026, 2, 2, 10, 0, tzinfo=dt.UTC)
DAY_TWO = dt.datetime(2026, 2, 20, 10, 0, tzinfo=dt.UTC)


def deal_for(owner, *, by=None, amount="14230.00") -> Deal:
    with time_machine.travel(DAY_ONE, tick=False):
        return crm.deal_create(by=by, title="Fleet renewal", owner=owner, amount=Decimal(amount))


# --------------------------------------------------------------------------- record pages


def test_deal_changes_made_in_the_pages_are_recorded_by_the_signed_in_user_and_shown_on_the_deal(client, people):
    rep = people["rep"]
    deal = deal_for(rep)
    stages = list(default_pipeline().stages.order_by("position"))
    client.force_login(rep)
    edit = {"title": deal.title, "owner": rep.pk, "amount": "123456", "currency": "EUR", "business_type": "new"}
    edit["expected_close_date"] = "2026-09-30"
    with time_machine.travel(DAY_TWO, tick=False):
        assert client.post(reverse("crm:deal_edit", args=[deal.pk]), edit).status_code == 302
        assert client.post(reverse("crm:deal_move", args=[deal.pk]), {"stage": stages[1].pk}).status_code == 302
        assert client.post(reverse("crm:deal_win", args=[deal.pk]), {"amount": "130000"}).status_code == 302
    updates = [c for c in recorded(deal) if c[0] == "update"]
    assert updates == [
        ("update", "amount", "123456.00", "130000.00", rep.username),
        ("update", "status", "open", "won", rep.username),
        ("update", "stage", stages[0].pk, stages[1].pk, rep.username),
        ("update", "amount", "14230.00", "123456.00", rep.username),
        ("update", "expected_close_date", None, "2026-09-30", rep.username),
    ]

    page = client.get(reverse("crm:deal_detail", args=[deal.pk]))
    panel = next(p for p in page.context["main_panels"] if p.template == "audit/_history.html")
    assert [c.field for e in panel.data["entries"] for c in e.changes][:2] == ["amount", "status"]
    content = page.content.decode()
    assert "Change history" in content and "14230.00" in content and "123456.00" in content
    assert f"{stages[0].name}" in content and "Won" in content and str(rep) in content
    assert reverse("audit:log") not in content  # the audit page is for directors and administrators


def test_a_teammate_sees_the_history_and_a_director_gets_a_link_to_the_whole_trail(client, people):
    deal = deal_for(people["rep"])
    client.force_login(people["teammate"])
    assert "Change history" in client.get(reverse("crm:deal_detail", args=[deal.pk])).content.decode()
    client.force_login(people["south_rep"])
    assert client.get(reverse("crm:deal_detail", args=[deal.pk])).status_code == 404
    client.force_login(people["director"])
    content = client.get(reverse("crm:deal_detail", args=[deal.pk])).content.decode()
    kind = ContentType.objects.get_for_model(Deal).pk
    assert f"{reverse('audit:log')}?kind={kind}&amp;record={deal.pk}" in content


def test_company_and_contact_pages_show_owner_changes_by_name(client, people):
    company = CompanyFactory(owner=people["rep"])
    contact = ContactFactory(owner=people["rep"], company=company)
    client.force_login(people["director"])
    edit = {"name": company.name, "owner": people["teammate"].pk}
    assert client.post(reverse("crm:company_edit", args=[company.pk]), edit).status_code == 302
    edit = {"last_name": contact.last_name, "company": company.pk, "owner": people["south_rep"].pk}
    assert client.post(reverse("crm:contact_edit", args=[contact.pk]), edit).status_code == 302
    assert recorded(company)[0] == ("update", "owner", people["rep"].pk, people["teammate"].pk, people["director"].username)
    assert recorded(contact)[0] == ("update", "owner", people["rep"].pk, people["south_rep"].pk, people["director"].username)
    for url, new_owner in (
        (reverse("crm:company_detail", args=[company.pk]), people["teammate"]),
        (reverse("crm:contact_detail", args=[contact.pk]), people["south_rep"]),
    ):
        content = client.get(url).content.decode()
        history = content[content.index('id="change-history"') :]
        assert str(people["rep"]) in history and str(new_owner) in history and str(people["director"]) in history


# --------------------------------------------------------------------------- the admin


def test_a_users_role_team_and_active_flag_changed_in_the_admin_are_recorded(client, people):
    admin = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True, username="root")
    rep = people["rep"]
    south = Team.objects.get(name="South")
    client.force_login(admin)
    data = {
        "username": rep.username,
        "first_name": rep.first_name,
        "last_name": rep.last_name,
        "email": rep.email,
        "role": Role.MANAGER,
        "team": south.pk,
        "language": "",
        "date_joined_0": "2026-01-05",
        "date_joined_1": "09:00:00",
    }  # is_active left out: unticked
    response = client.post(reverse("admin:accounts_user_change", args=[rep.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    rep.refresh_from_db()
    assert (rep.role, rep.team, rep.is_active) == (Role.MANAGER, south, False)
    changed = {c[1]: c for c in recorded(rep) if c[0] == "update"}
    assert changed["role"] == ("update", "role", "rep", "manager", "root")
    assert changed["team"][2:] == (Team.objects.get(name="North").pk, south.pk, "root")
    assert changed["is_active"][2:] == (True, False, "root")


def test_a_custom_field_changed_in_the_admin_is_recorded(client, people):
    admin = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True, username="root")
    field = CustomField.objects.create(target="deal", key="region", label="Region", field_type="text")
    client.force_login(admin)
    data = {"target": "deal", "key": "region", "label": "Sales region", "field_type": "text", "choices": "[]", "position": 0}
    response = client.post(reverse("admin:crm_customfield_change", args=[field.pk]), data)
    assert response.status_code == 302
    assert recorded(field)[0] == ("update", "label", "Region", "Sales region", "root")


# --------------------------------------------------------------------------- the audit page


@pytest.mark.parametrize(("role", "superuser", "status"), [
    (Role.DIRECTOR, False, 200),
    (Role.ADMIN, False, 200),
    (Role.REP, True, 200),
    (Role.MANAGER, False, 403),
    (Role.REP, False, 403),
    (Role.VIEWER, False, 403),
    (Role.MARKETING, False, 403),
])  # fmt: skip
def test_only_directors_and_administrators_open_the_audit_page_and_its_export(client, role, superuser, status):
    client.force_login(UserFactory(role=role, is_superuser=superuser))
    assert client.get(reverse("audit:log")).status_code == status
    assert client.get(reverse("audit:export"), {"format": "csv"}).status_code == status
    navigation = client.get(reverse("home")).content.decode()
    assert (reverse("audit:log") in navigation) == (status == 200)


def test_signed_out_people_are_sent_to_sign_in(client):
    response = client.get(reverse("audit:log"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.fixture
def trail(people):
    """A deal changed by the rep on day one and by the director on day two, and a company handed over on day two."""
    rep, director = people["rep"], people["director"]
    deal = deal_for(rep, by=rep)
    with time_machine.travel(DAY_ONE + dt.timedelta(hours=1), tick=False):
        crm.deal_update(deal=deal, by=rep, data={"amount": Decimal("20000")})
    with time_machine.travel(DAY_TWO, tick=False):
        crm.deal_update(deal=deal, by=director, data={"owner": people["teammate"]})
        company = CompanyFactory(owner=rep, name="Acme")
        record_update(instance=company, by=director, data={"owner": people["south_rep"]})
    return {"deal": deal, "company": company, **people}


def shown(response) -> list[tuple[str, str, str]]:
    """(record, field, who) for each change the page lists."""
    return [
        (entry.object_repr, change.field, entry.actor.username if entry.actor else "")
        for entry in response.context["entries"]
        for change in entry.changes
    ]


def test_the_audit_page_lists_changes_newest_first_and_filters_them(client, trail):
    rep, director = trail["rep"], trail["director"]
    client.force_login(director)
    url = reverse("audit:log")
    by_director = shown(client.get(url, {"user": director.pk}))
    assert by_director == [("Acme", "owner", director.username), ("Fleet renewal", "owner", director.username)]
    deal_kind = ContentType.objects.get_for_model(Deal).pk
    company_kind = ContentType.objects.get_for_model(Company).pk

    assert {row[0] for row in shown(client.get(url, {"kind": company_kind}))} == {"Acme"}
    assert shown(client.get(url, {"kind": deal_kind, "user": rep.pk, "field": "amount"})) == [
        ("Fleet renewal", "amount", rep.username),
        ("Fleet renewal", "amount", rep.username),  # the amount it was created with
    ]
    assert shown(client.get(url, {"kind": deal_kind, "start": "2026-02-10", "end": "2026-02-28"})) == [
        ("Fleet renewal", "owner", director.username)
    ]
    assert {row[0] for row in shown(client.get(url, {"end": "2026-02-02", "kind": deal_kind}))} == {"Fleet renewal"}
    assert shown(client.get(url, {"kind": deal_kind, "record": trail["deal"].pk, "user": director.pk})) == [
        ("Fleet renewal", "owner", director.username)
    ]
    content = client.get(url, {"kind": company_kind}).content.decode()
    assert str(trail["rep"]) in content and str(trail["south_rep"]) in content  # owners by name, old -> new

    refused = client.get(url, {"start": "2026-03-01", "end": "2026-02-01"})
    assert refused.status_code == 200 and refused.context["entries"] is None
    assert "The range ends before it starts." in refused.content.decode()
    assert client.get(url, {"start": "not a day"}).context["entries"] is None


def test_the_trail_exports_as_csv_and_xlsx_with_the_page_filters(client, trail):
    client.force_login(trail["director"])
    deal_kind = ContentType.objects.get_for_model(Deal).pk
    url = reverse("audit:export")
    response = client.get(url, {"format": "csv", "kind": deal_kind, "field": "owner"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["When", "By", "Action", "Record type", "Record id", "Record", "Field", "Old value", "New value"]
    deal_id, rep = str(trail["deal"].pk), str(trail["rep"])
    assert [row[1:] for row in rows[1:]] == [
        [str(trail["director"]), "Updated", "Deal", deal_id, "Fleet renewal", "Owner", rep, str(trail["teammate"])],
        [rep, "Created", "Deal", deal_id, "Fleet renewal", "Owner", "", rep],
    ]

    response = client.get(url, {"format": "xlsx", "kind": deal_kind})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "When" and isinstance(values[1][0], dt.datetime)
    assert {row[6] for row in values[1:]} >= {"Owner", "Amount", "Status"}
    on_the_page = client.get(reverse("audit:log"), {"kind": deal_kind}).context["entries"]
    assert len(values) - 1 == sum(len(entry.changes) for entry in on_the_page)

    assert client.get(url, {"format": "pdf"}).status_code == 400
    assert client.get(url, {"format": "csv", "kind": "999999"}).status_code == 400


def test_changes_by_nobody_say_system(client, people):
    crm.deal_create(by=None, title="From a script", owner=people["rep"], amount=Decimal("1"))
    client.force_login(people["director"])
    content = client.get(reverse("audit:log")).content.decode()
    assert "From a script" in content and "System" in content


def test_a_user_changed_appears_under_people(client, people):
    director = people["director"]
    client.force_login(director)
    user_kind = ContentType.objects.get_for_model(User).pk
    rep = people["rep"]
    record_update(instance=rep, by=director, data={"role": Role.VIEWER})
    rows = shown(client.get(reverse("audit:log"), {"kind": user_kind, "field": "role"}))
    assert rows[0] == (str(rep), "role", director.username)
