"""Idempotency-Key: a retried POST gets the first response and writes once; a reused key for other data is refused."""

import datetime as dt
import json

import pytest
import time_machine

from quota.accounts.models import Role
from quota.api import idempotency
from quota.api.models import IdempotencyKey
from quota.api.tasks import purge_idempotency_keys
from quota.crm.models import Company, DealStageChange
from quota.crm.services import deal_create
from quota.testing.api import client_for
from quota.testing.factories import UserFactory

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2025, 6, 2, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def rep():
    return UserFactory(role=Role.REP)


def post(api, path, data, key):
    return api.post(path, data, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retried_create_returns_the_first_response_and_writes_once(rep):
    api = client_for(rep)
    first = post(api, "/api/companies/", {"name": "Acme"}, "create-acme-1")
    again = post(api, "/api/companies/", {"name": "Acme"}, "create-acme-1")
    assert first.status_code == again.status_code == 201
    assert json.loads(again.content) == first.json() and again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Company.objects.filter(name="Acme").count() == 1
    assert IdempotencyKey.objects.get().endpoint == "POST /api/companies/"


def test_the_same_key_with_other_data_is_refused_and_writes_nothing(rep):
    api = client_for(rep)
    post(api, "/api/companies/", {"name": "Acme"}, "k-1")
    refused = post(api, "/api/companies/", {"name": "Other"}, "k-1")
    assert refused.status_code == 422
    assert "already used for a different request" in refused.json()["detail"]
    assert not Company.objects.filter(name="Other").exists()


def test_json_key_order_does_not_make_a_different_request(rep):
    api = client_for(rep)
    first = api.post(
        "/api/companies/", '{"name": "Acme", "domain": "acme.test"}', content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
    )
    again = api.post(
        "/api/companies/", '{"domain":"acme.test","name":"Acme"}', content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert first.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert Company.objects.count() == 1


def test_keys_are_per_user_and_per_endpoint(rep):
    mine, theirs = client_for(rep), client_for(UserFactory(team=rep.team))
    post(mine, "/api/companies/", {"name": "Acme"}, "same")
    post(theirs, "/api/companies/", {"name": "Acme"}, "same")
    contact = post(mine, "/api/contacts/", {"first_name": "Ann", "last_name": "Lee"}, "same")
    assert contact.status_code == 201 and "Idempotent-Replayed" not in contact
    assert Company.objects.filter(name="Acme").count() == 2


def test_an_action_such_as_winning_a_deal_is_replayed_too(rep):
    deal = deal_create(by=None, title="Fleet", owner=rep)
    api = client_for(rep)
    won = post(api, f"/api/deals/{deal.pk}/win/", {"amount": "1200.00"}, "win-fleet")
    changes = DealStageChange.objects.filter(deal=deal).count()
    again = post(api, f"/api/deals/{deal.pk}/win/", {"amount": "1200.00"}, "win-fleet")
    assert won.status_code == again.status_code == 200 and json.loads(again.content) == won.json()
    assert again["Idempotent-Replayed"] == "true" and won.json()["status"] == "won"
    assert DealStageChange.objects.filter(deal=deal).count() == changes
    # Without the key the repeat is a new request, which the deal's rules answer.
    assert api.post(f"/api/deals/{deal.pk}/win/", {"amount": "1200.00"}, format="json").status_code != 200


def test_an_error_is_not_remembered_so_the_key_can_be_used_once_fixed(rep):
    api = client_for(rep)
    bad = post(api, "/api/companies/", {"name": ""}, "k-2")
    assert bad.status_code == 400 and not IdempotencyKey.objects.exists()
    good = post(api, "/api/companies/", {"name": "Fixed"}, "k-2")
    assert good.status_code == 201 and "Idempotent-Replayed" not in good


def test_a_malformed_key_is_a_clear_400(rep):
    response = post(client_for(rep), "/api/companies/", {"name": "Acme"}, "has spaces")
    assert response.status_code == 400 and "Idempotency-Key" in response.json()
    assert not Company.objects.exists()


def test_without_the_header_nothing_is_remembered(rep):
    api = client_for(rep)
    api.post("/api/companies/", {"name": "Acme"}, format="json")
    api.post("/api/companies/", {"name": "Acme"}, format="json")
    assert Company.objects.count() == 2 and not IdempotencyKey.objects.exists()


def test_keys_expire_after_a_day_and_are_purged(rep):
    api = client_for(rep)
    with time_machine.travel(NOON, tick=False):
        post(api, "/api/companies/", {"name": "Acme"}, "k-3")
    with time_machine.travel(NOON + dt.timedelta(hours=23), tick=False):
        assert post(api, "/api/companies/", {"name": "Acme"}, "k-3")["Idempotent-Replayed"] == "true"
        assert purge_idempotency_keys.apply().get() == 0
    with time_machine.travel(NOON + dt.timedelta(hours=24, seconds=1), tick=False):
        assert purge_idempotency_keys.apply().get() == 1
        again = post(api, "/api/companies/", {"name": "Acme"}, "k-3")
    assert "Idempotent-Replayed" not in again and Company.objects.count() == 2


def test_an_expired_key_is_replaced_when_used_again(rep):
    api = client_for(rep)
    with time_machine.travel(NOON, tick=False):
        post(api, "/api/companies/", {"name": "Acme"}, "k-4")
    with time_machine.travel(NOON + dt.timedelta(days=2), tick=False):
        assert post(api, "/api/companies/", {"name": "Other"}, "k-4").status_code == 201
    assert IdempotencyKey.objects.get().expires_at == NOON + dt.timedelta(days=3)


def test_the_schema_documents_the_header_on_post_operations(client):
    client.force_login(UserFactory())  # the schema is for signed-in people
    schema = client.get("/api/schema/", {"format": "json"}).json()
    headers = {
        (path, method): [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }
    assert headers[("/api/v1/deals/", "post")] == [idempotency.HEADER]
    assert headers[("/api/v1/deals/{id}/win/", "post")] == [idempotency.HEADER]
    assert headers[("/api/v1/webhook-subscriptions/", "post")] == [idempotency.HEADER]
    assert headers[("/api/v1/deals/", "get")] == [] and headers[("/api/v1/deals/{id}/", "patch")] == []


def test_a_twin_request_that_stored_its_key_first_decides_the_answer(rep, monkeypatch):
    api = client_for(rep)
    first = post(api, "/api/companies/", {"name": "Acme"}, "twin")
    # The twin checked for the key before the first had committed it: it runs, then meets the key at the end.
    monkeypatch.setattr(idempotency, "earlier_response", lambda **kwargs: None)
    twin = post(api, "/api/companies/", {"name": "Acme"}, "twin")
    assert twin.status_code == 201 and twin["Idempotent-Replayed"] == "true" and json.loads(twin.content) == first.json()
    assert Company.objects.count() == 1  # the twin's own write was rolled back with it
