"""The webhook pages: subscriptions, the delivery log and redelivery, for administrators and directors."""

import pytest

from quota.accounts.models import Role
from quota.testing.factories import UserFactory
from quota.webhooks import services
from quota.webhooks.models import WebhookDelivery, WebhookSubscription

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("loopback_allowed")]


def test_a_director_creates_a_subscription_and_sees_its_secret_and_log(client, director, receiver):
    client.force_login(director)
    response = client.post("/webhooks/new/", {"url": receiver.url, "events": ["deal.won", "deal.lost"], "is_active": "on"})
    subscription = WebhookSubscription.objects.get()
    assert response.status_code == 302 and response.url == f"/webhooks/{subscription.pk}/"
    assert subscription.events == ["deal.won", "deal.lost"] and subscription.created_by == director
    [delivery] = services.deliveries_for_event(event="deal.won", payload={"id": 1})

    detail = client.get(f"/webhooks/{subscription.pk}/").content.decode()
    assert subscription.secret in detail and "X-Quota-Signature" in detail and f"/webhooks/deliveries/{delivery.pk}/" in detail
    assert client.get("/webhooks/").status_code == 200
    assert client.get(f"/webhooks/deliveries/{delivery.pk}/").status_code == 200


def test_the_form_shows_the_reason_a_url_is_refused(client, director, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    client.force_login(director)
    response = client.post("/webhooks/new/", {"url": "http://127.0.0.1:9000/", "events": ["deal.won"]})
    assert response.status_code == 200 and "private or local address" in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_redeliver_from_the_page(client, director, receiver, django_capture_on_commit_callbacks):
    services.subscription_create(by=director, url=receiver.url, events=["deal.won"])
    [delivery] = services.deliveries_for_event(event="deal.won", payload={"id": 1})
    client.force_login(director)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/webhooks/deliveries/{delivery.pk}/redeliver/")
    again = WebhookDelivery.objects.get(redelivery_of=delivery)
    assert response.status_code == 302 and response.url == f"/webhooks/deliveries/{again.pk}/"
    assert again.status == "succeeded" and len(receiver.requests) == 1


def test_other_roles_are_turned_away(client):
    client.force_login(UserFactory(role=Role.MANAGER))
    assert client.get("/webhooks/").status_code == 403
    assert client.get("/webhooks/new/").status_code == 403
