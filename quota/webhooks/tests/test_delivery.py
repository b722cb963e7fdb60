"""Deliveries: signed POSTs to a real receiver, retries with back-off, and who gets what."""

import datetime as dt
import hashlib
import hmac
import json

import pytest
from celery.exceptions import Retry
from django.core.exceptions import ValidationError
from django.utils import timezone

from quota.crm.services import deal_close_won, deal_create, lead_create
from quota.testing.factories import UserFactory, lead_source
from quota.webhooks import services
from quota.webhooks.models import DeliveryStatus, WebhookDelivery
from quota.webhooks.tasks import deliver_webhook, send_overdue_webhooks

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("loopback_allowed")]


def subscribe(url: str, events: list[str], **fields) -> object:
    return services.subscription_create(by=None, url=url, events=events, **fields)


def signed_correctly(secret: str, request) -> bool:
    timestamp = request.headers["X-Quota-Timestamp"]
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256).hexdigest()
    return request.headers["X-Quota-Signature"] == f"sha256={digest}"


@pytest.fixture
def countdowns(monkeypatch) -> list[int]:
    """Stands in for Celery's retry: records the countdown and stops the task as a worker would."""
    asked: list[int] = []

    def retry(*, countdown: int, **kwargs) -> None:
        asked.append(countdown)
        raise Retry(when=countdown)

    monkeypatch.setattr(deliver_webhook, "retry", retry)
    return asked


def make_due(delivery: WebhookDelivery) -> None:
    """Time passes: the back-off is over."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_a_won_deal_reaches_the_receiver_signed(receiver, django_capture_on_commit_callbacks):
    subscription = subscribe(receiver.url, ["deal.won"])
    rep = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        deal = deal_create(by=rep, title="Fleet renewal", owner=rep)
        deal_close_won(deal=deal, by=rep)

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request.path == "/hooks/quota"
    assert signed_correctly(subscription.secret, request)
    assert not signed_correctly("another secret", request)
    body = json.loads(request.body)
    assert body["event"] == "deal.won" and body["data"]["id"] == deal.pk and body["data"]["title"] == "Fleet renewal"
    delivery = WebhookDelivery.objects.get()
    assert request.headers["X-Quota-Event"] == "deal.won"
    assert request.headers["X-Quota-Delivery"] == str(delivery.uuid)
    assert body["id"] == str(delivery.event_id)
    assert (delivery.status, delivery.attempts, delivery.response_code) == (DeliveryStatus.SUCCEEDED, 1, 200)
    assert [(a.number, a.response_code, a.succeeded) for a in delivery.attempt_log.all()] == [(1, 200, True)]


def test_a_failing_receiver_is_retried_after_the_back_off(receiver, countdowns):
    receiver.statuses = [500, 200]
    subscription = subscribe(receiver.url, ["deal.won"])
    [delivery] = services.deliveries_for_event(event="deal.won", payload={"id": 7})

    with pytest.raises(Retry):
        deliver_webhook(delivery.pk)
    delivery.refresh_from_db()
    assert countdowns == [60]
    assert (delivery.status, delivery.attempts, delivery.response_code) == (DeliveryStatus.PENDING, 1, 500)
    assert dt.timedelta(seconds=55) < delivery.next_attempt_at - timezone.now() <= dt.timedelta(seconds=60)

    deliver_webhook(delivery.pk)  # an early duplicate message: not due yet, nothing is sent
    assert len(receiver.requests) == 1

    make_due(delivery)
    deliver_webhook(delivery.pk)
    delivery.refresh_from_db()
    assert countdowns == [60]
    assert (delivery.status, delivery.attempts, delivery.response_code) == (DeliveryStatus.SUCCEEDED, 2, 200)
    assert delivery.next_attempt_at is None and delivery.delivered_at is not None
    log = [(a.number, a.response_code, a.succeeded, a.error) for a in delivery.attempt_log.all()]
    assert log == [(1, 500, False, "The receiver answered HTTP 500."), (2, 200, True, "")]
    first, second = receiver.requests
    assert first.body == second.body and first.headers["X-Quota-Delivery"] == second.headers["X-Quota-Delivery"]
    assert signed_correctly(subscription.secret, first) and signed_correctly(subscription.secret, second)


def test_after_the_last_attempt_the_delivery_has_failed(receiver, countdowns):
    receiver.statuses = [503]
    subscribe(receiver.url, ["lead.created"])
    [delivery] = services.deliveries_for_event(event="lead.created", payload={"id": 1})
    for _ in range(services.MAX_ATTEMPTS - 1):
        with pytest.raises(Retry):
            deliver_webhook(delivery.pk)
        make_due(delivery)
    deliver_webhook(delivery.pk)  # the last attempt: no retry asked

    delivery.refresh_from_db()
    assert countdowns == [60, 300, 1800, 7200, 21600]
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (DeliveryStatus.FAILED, 6, None)
    assert len(receiver.requests) == 6 == delivery.attempt_log.count()
    deliver_webhook(delivery.pk)  # a stray message for a finished delivery sends nothing
    assert len(receiver.requests) == 6


def test_without_a_worker_the_sweep_retries_overdue_deliveries(receiver, django_capture_on_commit_callbacks):
    receiver.statuses = [500, 200]
    subscribe(receiver.url, ["lead.created"])
    with django_capture_on_commit_callbacks(execute=True):  # eager Celery: the first attempt runs inline
        lead_create(by=None, title="Enquiry", source=lead_source("website"))
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)

    assert send_overdue_webhooks() == 0  # not overdue: a worker's own retry would still come
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - services.SWEEP_GRACE - dt.timedelta(seconds=1))
    assert send_overdue_webhooks() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(receiver.requests)) == (DeliveryStatus.SUCCEEDED, 2, 2)


def test_only_active_subscriptions_to_the_event_are_told(receiver, django_capture_on_commit_callbacks):
    leads = subscribe(receiver.url + "?to=leads", ["lead.created", "case.created"])
    subscribe(receiver.url + "?to=disabled", ["lead.created"], is_active=False)
    subscribe(receiver.url + "?to=deals", ["deal.won", "deal.lost"])
    with django_capture_on_commit_callbacks(execute=True):
        lead_create(by=None, title="Enquiry", source=lead_source("website"))

    assert [r.path for r in receiver.requests] == ["/hooks/quota?to=leads"]
    assert list(WebhookDelivery.objects.values_list("subscription", "event")) == [(leads.pk, "lead.created")]


def test_a_subscription_disabled_before_sending_gets_nothing(receiver):
    subscription = subscribe(receiver.url, ["case.created"])
    [delivery] = services.deliveries_for_event(event="case.created", payload={"id": 3})
    services.subscription_update(subscription=subscription, by=None, data={"is_active": False})
    deliver_webhook(delivery.pk)
    delivery.refresh_from_db()
    assert receiver.requests == [] and delivery.status == DeliveryStatus.FAILED and delivery.attempts == 0


def test_target_met_can_be_subscribed_although_nothing_sends_it_yet(receiver):
    subscription = subscribe(receiver.url, ["target.met"])
    assert subscription.events == ["target.met"]
    [delivery] = services.deliveries_for_event(event="target.met", payload={"target": 1})
    assert delivery.subscription == subscription
    with pytest.raises(ValidationError) as refused:
        subscribe(receiver.url, ["deal.exploded"])
    assert "events" in refused.value.message_dict


def test_a_closed_port_is_recorded_as_an_error_and_retried(receiver, countdowns):
    subscribe("http://127.0.0.1:1/nothing-listens", ["deal.lost"])
    [delivery] = services.deliveries_for_event(event="deal.lost", payload={})
    with pytest.raises(Retry):
        deliver_webhook(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.response_code is None
    assert "Connection" in delivery.error or "refused" in delivery.error.lower()


def test_a_redelivery_is_a_new_delivery_of_the_same_event(receiver, director, django_capture_on_commit_callbacks):
    subscribe(receiver.url, ["deal.won"])
    with django_capture_on_commit_callbacks(execute=True):
        [first] = services.deliveries_for_event(event="deal.won", payload={"id": 1})
        again = services.delivery_redeliver(delivery=first, by=director)
    assert again.pk != first.pk and again.event_id == first.event_id and again.redelivery_of == first
    assert len(receiver.requests) == 2
    assert {json.loads(r.body)["id"] for r in receiver.requests} == {str(first.event_id)}
    assert len({r.headers["X-Quota-Delivery"] for r in receiver.requests}) == 2


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/",
        "http://169.254.169.254/latest/",
        "http://10.1.2.3/",
        "ftp://example.com/",
    ],
)
def test_private_and_non_http_targets_are_refused_by_default(settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    with pytest.raises(ValidationError) as refused:
        subscribe(url, ["deal.won"])
    assert "url" in refused.value.message_dict


def test_a_target_turned_private_is_refused_when_sending(receiver, settings):
    subscribe(receiver.url, ["deal.won"])
    [delivery] = services.deliveries_for_event(event="deal.won", payload={})
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    deliver_webhook(delivery.pk)
    delivery.refresh_from_db()
    assert receiver.requests == [] and delivery.status == DeliveryStatus.FAILED
    assert "private or local address" in delivery.error
