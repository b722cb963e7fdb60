"""`GET /api/<records>/{id}/history/`: who changed what from what to what, newest first, for records the caller sees."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from rest_framework.pagination import PageNumberPagination
from rest_framework.test import APIClient

from quota.accounts.models import Role, Team
from quota.crm.models import CustomField
from quota.crm.services import deal_create
from quota.testing.api import client_for
from quota.testing.factories import CompanyFactory, ContactFactory, UserFactory, default_pipeline

pytestmark = pytest.mark.django_db

MOMENT = dt.datetime(2026, 5, 4, 8, 30, tzinfo=dt.UTC)


@pytest.fixture
def cast():
    north, south = Team.objects.create(name="North"), Team.objects.create(name="South")
    return {
        "rep": UserFactory(team=north, username="anna"),
        "mate": UserFactory(team=north, username="ben"),
        "south_rep": UserFactory(team=south, username="carl"),
        "director": UserFactory(team=None, role=Role.DIRECTOR, username="dora"),
        "viewer": UserFactory(team=north, role=Role.VIEWER, username="eve"),
    }


def test_an_amount_changed_through_the_api_shows_old_and_new_in_the_history(cast):
    rep = cast["rep"]
    with time_machine.travel(MOMENT, tick=False):
        deal = deal_create(by=rep, title="Big one", owner=rep, amount=Decimal("14230.00"))
    api = client_for(rep)
    with time_machine.travel(MOMENT + dt.timedelta(hours=2), tick=False):
        assert api.patch(f"/api/deals/{deal.pk}/", {"amount": "123456.00"}, format="json").status_code == 200
    body = api.get(f"/api/deals/{deal.pk}/history/").json()
    newest = body["results"][0]
    assert newest == {
        "field": "amount",
        "action": "update",
        "old": "14230.00",
        "new": "123456.00",
        "old_display": "14230.00",
        "new_display": "123456.00",
        "user": {"id": rep.pk, "username": "anna", "name": str(rep)},  # the token's user, known only inside the view
        "at": "2026-05-04T10:30:00Z",
    }
    assert body["count"] == len(body["results"]) and {"next", "previous"} <= body.keys()
    assert [row["at"] for row in body["results"]] == sorted((row["at"] for row in body["results"]), reverse=True)
    assert {"field": "amount", "old": None, "new": "14230.00"}.items() <= next(
        row for row in body["results"] if row["action"] == "create" and row["field"] == "amount"
    ).items()


def test_owner_and_stage_changes_through_the_api_name_the_people_and_stages(cast):
    director, rep = cast["director"], cast["rep"]
    deal = deal_create(by=director, title="Handover", owner=rep, amount=Decimal("10"))
    stages = list(default_pipeline().stages.order_by("position"))
    api = client_for(director)
    api.patch(f"/api/deals/{deal.pk}/", {"owner": cast["mate"].pk, "expected_close_date": "2026-07-31"}, format="json")
    api.post(f"/api/deals/{deal.pk}/move/", {"stage": stages[2].pk}, format="json")
    api.post(f"/api/deals/{deal.pk}/reopen/", format="json")  # nothing to reopen: no entry
    rows = api.get(f"/api/deals/{deal.pk}/history/").json()["results"]
    by_field = {row["field"]: row for row in rows if row["action"] == "update"}
    assert by_field["owner"]["old"] == rep.pk and by_field["owner"]["new"] == cast["mate"].pk
    assert (by_field["owner"]["old_display"], by_field["owner"]["new_display"]) == (str(rep), str(cast["mate"]))
    assert (by_field["stage"]["old_display"], by_field["stage"]["new_display"]) == (str(stages[0]), str(stages[2]))
    assert by_field["expected_close_date"]["new"] == "2026-07-31"
    assert {row["user"]["username"] for row in rows if row["action"] == "update"} == {"dora"}
    assert rows[0]["field"] == "stage"  # newest first


def test_another_teams_rep_gets_404_and_a_teammate_reads_it(cast):
    deal = deal_create(by=None, title="North deal", owner=cast["rep"], amount=Decimal("1"))
    company = CompanyFactory(owner=cast["rep"])
    contact = ContactFactory(owner=cast["rep"], company=company)
    urls = [f"/api/deals/{deal.pk}/history/", f"/api/companies/{company.pk}/history/", f"/api/contacts/{contact.pk}/history/"]
    for url in urls:
        assert client_for(cast["south_rep"]).get(url).status_code == 404, url
        assert client_for(cast["mate"]).get(url).status_code == 200, url
        assert client_for(cast["viewer"]).get(url).status_code == 200, url
    assert client_for(cast["rep"]).get("/api/deals/999999/history/").status_code == 404
    assert APIClient().get(f"/api/deals/{deal.pk}/history/").status_code in (401, 403)


def test_company_and_contact_owner_changes_through_the_api(cast):
    director = cast["director"]
    company = CompanyFactory(owner=cast["rep"])
    contact = ContactFactory(owner=cast["rep"], company=company)
    api = client_for(director)
    api.patch(f"/api/companies/{company.pk}/", {"owner": cast["south_rep"].pk}, format="json")
    api.patch(f"/api/contacts/{contact.pk}/", {"owner": cast["mate"].pk}, format="json")
    newest_company = api.get(f"/api/companies/{company.pk}/history/").json()["results"][0]
    newest_contact = api.get(f"/api/contacts/{contact.pk}/history/").json()["results"][0]
    assert [newest_company[key] for key in ("field", "old", "new")] == ["owner", cast["rep"].pk, cast["south_rep"].pk]
    assert [newest_contact[key] for key in ("field", "old", "new")] == ["owner", cast["rep"].pk, cast["mate"].pk]
    assert newest_company["user"]["id"] == newest_contact["user"]["id"] == director.pk


def test_custom_field_definition_changes_are_in_its_history(cast):
    api = client_for(cast["director"])
    created = api.post(
        "/api/custom-fields/", {"target": "deal", "key": "region", "label": "Region", "field_type": "text"}, format="json"
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    api.patch(f"/api/custom-fields/{pk}/", {"field_type": "choice", "choices": ["EMEA", "APAC"]}, format="json")
    rows = api.get(f"/api/custom-fields/{pk}/history/").json()["results"]
    changed = {row["field"]: (row["old"], row["new"]) for row in rows if row["action"] == "update"}
    assert changed == {"field_type": ("text", "choice"), "choices": ([], ["EMEA", "APAC"])}
    api.delete(f"/api/custom-fields/{pk}/")
    assert not CustomField.objects.filter(pk=pk).exists()


def test_history_is_paginated_like_other_lists(cast, monkeypatch):
    monkeypatch.setattr(PageNumberPagination, "page_size", 2)  # the lists' PAGE_SIZE, read once at import
    director = cast["director"]
    deal = deal_create(by=director, title="Many changes", owner=cast["rep"], amount=Decimal("1"))
    api = client_for(director)
    for amount in ("2.00", "3.00", "4.00"):
        api.patch(f"/api/deals/{deal.pk}/", {"amount": amount}, format="json")
    first = api.get(f"/api/deals/{deal.pk}/history/").json()
    assert len(first["results"]) == 2 and first["next"] and first["previous"] is None
    assert [row["new"] for row in first["results"]] == ["4.00", "3.00"]
    second = api.get(first["next"]).json()
    assert second["results"][0]["new"] == "2.00"
    assert api.get(f"/api/deals/{deal.pk}/history/?page=999").status_code == 404


def test_the_history_endpoints_are_in_the_openapi_schema(cast):
    schema = client_for(cast["director"]).get("/api/schema/?format=json").json()
    for records in ("deals", "companies", "contacts", "custom-fields"):
        operation = schema["paths"][f"/api/v1/{records}/{{id}}/history/"]["get"]
        assert {"200", "404"} <= operation["responses"].keys()
        assert "page" in {parameter["name"] for parameter in operation["parameters"]}
    page = schema["components"]["schemas"]["HistoryPage"]
    assert {"count", "next", "previous", "results"} <= page["properties"].keys()
    change = schema["components"]["schemas"]["HistoryChange"]
    assert {"field", "old", "new", "user", "at"} <= change["properties"].keys()
