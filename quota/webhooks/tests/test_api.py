"""The webhook API: subscriptions CRUD and the delivery log, for administrators and directors only."""

import pytest

from quota.accounts.models import Role
from quota.testing.api import client_for
from quota.testing.factories import UserFactory
from quota.webhooks import services
from quota.webhooks.models import WebhookDelivery, WebhookSubscription

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("loopback_allowed")]


def test_a_director_creates_lists_changes_and_deletes_subscriptions(director, receiver):
    api = client_for(director)
    created = api.post("/api/webhook-subscriptions/", {"url": receiver.url, "events": ["deal.won", "target.met"]}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert len(body["secret"]) >= 32 and body["created_by"] == str(director) and body["is_active"] is True
    pk = body["id"]
    assert [row["id"] for row in api.get("/api/webhook-subscriptions/").json()["results"]] == [pk]
    changed = api.patch(f"/api/webhook-subscriptions/{pk}/", {"is_active": False, "secret": "mine"}, format="json")
    assert changed.status_code == 200 and changed.json()["is_active"] is False
    assert changed.json()["secret"] == body["secret"]  # read-only
    assert api.delete(f"/api/webhook-subscriptions/{pk}/").status_code == 204
    assert not WebhookSubscription.objects.exists()


def test_bad_subscriptions_are_refused_with_reasons(director, settings):
    api = client_for(director)
    unknown = api.post(
        "/api/webhook-subscriptions/", {"url": "https://erp.example.com/q", "events": ["deal.exploded"]}, format="json"
    )
    assert unknown.status_code == 400 and "events" in unknown.json()
    empty = api.post("/api/webhook-subscriptions/", {"url": "https://erp.example.com/q", "events": []}, format="json")
    assert empty.status_code == 400 and "events" in empty.json()
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    private = api.post("/api/webhook-subscriptions/", {"url": "http://127.0.0.1/q", "events": ["deal.won"]}, format="json")
    assert private.status_code == 400 and "private" in private.json()["url"][0]


@pytest.mark.parametrize("role", [Role.REP, Role.MANAGER, Role.MARKETING, Role.VIEWER])
def test_other_roles_may_not_see_or_manage_webhooks(role, receiver):
    services.subscription_create(by=None, url=receiver.url, events=["deal.won"])
    api = client_for(UserFactory(role=role))
    assert api.get("/api/webhook-subscriptions/").status_code == 403
    assert api.get("/api/webhook-deliveries/").status_code == 403
    assert (
        api.post("/api/webhook-subscriptions/", {"url": receiver.url, "events": ["deal.won"]}, format="json").status_code == 403
    )


def test_the_delivery_log_is_read_only_and_can_redeliver(director, receiver, django_capture_on_commit_callbacks):
    receiver.statuses = [500, 200]
    subscription = services.subscription_create(by=director, url=receiver.url, events=["case.created"])
    with django_capture_on_commit_callbacks(execute=True):
        [delivery] = services.deliveries_for_event(event="case.created", payload={"id": 9})
    api = client_for(director)
    listed = api.get("/api/webhook-deliveries/", {"subscription": subscription.pk}).json()["results"]
    assert [(row["id"], row["status"], row["attempts"]) for row in listed] == [(delivery.pk, "pending", 1)]
    assert listed[0]["attempt_log"][0]["response_code"] == 500
    assert api.delete(f"/api/webhook-deliveries/{delivery.pk}/").status_code == 405
    assert api.patch(f"/api/webhook-deliveries/{delivery.pk}/", {"status": "succeeded"}, format="json").status_code == 405

    with django_capture_on_commit_callbacks(execute=True):
        again = api.post(f"/api/webhook-deliveries/{delivery.pk}/redeliver/")
    assert again.status_code == 202
    redelivered = WebhookDelivery.objects.get(pk=again.json()["id"])
    assert redelivered.redelivery_of_id == delivery.pk and redelivered.status == "succeeded"
    assert len(receiver.requests) == 2
