"""Write paths for webhooks: subscriptions, one delivery per event and subscription, attempts with back-off.

A delivery is attempted by the `deliver_webhook` task. An attempt first claims the delivery with one
conditional UPDATE (pending, due, not held by another attempt), so a duplicate task message, a Celery
retry and the sweep for overdue deliveries never POST the same delivery twice at once.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import time
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from quota.core.permissions import require
from quota.core.queue import enqueue_on_commit
from quota.core.services import model_update
from quota.webhooks import signing, transport
from quota.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookSubscription

# Waits after the 1st, 2nd, ... failed attempt; one more attempt than waits, then the delivery has failed.
BACKOFF_SECONDS = (60, 5 * 60, 30 * 60, 2 * 3600, 6 * 3600)
MAX_ATTEMPTS = len(BACKOFF_SECONDS) + 1
TIMEOUT_SECONDS = 5
# While an attempt runs the delivery is held this long (DNS, connect and read may each take the timeout).
CLAIM = dt.timedelta(seconds=TIMEOUT_SECONDS * 4)
# A Celery countdown may fire a moment early.
EARLY_TOLERANCE = dt.timedelta(seconds=5)
# The sweep leaves deliveries that are just due to their own Celery retry and takes only lost ones.
SWEEP_GRACE = dt.timedelta(minutes=2)

SUBSCRIPTION_FIELDS = {"url", "description", "events", "is_active"}


def _check_url(url: str) -> None:
    try:
        transport.check_url(url)
    except transport.TargetRefused as refusal:
        raise ValidationError({"url": str(refusal)})


# ----------------------------------------------------------------------------- subscriptions


@transaction.atomic
def subscription_create(
    *, by: Any, url: str, events: list[str], description: str = "", is_active: bool = True
) -> WebhookSubscription:
    require(by, "webhooks.manage")
    subscription = WebhookSubscription(url=url, events=events, description=description, is_active=is_active, created_by=by)
    subscription.full_clean()
    _check_url(subscription.url)
    subscription.save()
    return subscription


@transaction.atomic
def subscription_update(*, subscription: WebhookSubscription, by: Any, data: dict[str, Any]) -> WebhookSubscription:
    require(by, "webhooks.manage")
    model_update(instance=subscription, data=data, editable=SUBSCRIPTION_FIELDS, derive=_url_checked)
    return subscription


def _url_checked(subscription: WebhookSubscription, changed: list[str]) -> list[str]:
    if "url" in changed:
        _check_url(subscription.url)  # before saving: a refused address is never stored
    return []


@transaction.atomic
def subscription_delete(*, subscription: WebhookSubscription, by: Any) -> None:
    """Delete a subscription with its delivery log (disable it instead to keep the log)."""
    require(by, "webhooks.manage")
    subscription.delete()


# ----------------------------------------------------------------------------- deliveries


def deliveries_for_event(*, event: str, payload: dict[str, Any]) -> list[WebhookDelivery]:
    """Record one delivery per active subscription that wants `event`, and queue each once committed."""
    # Subscriptions are few, and JSON "contains" lookups do not work on SQLite: match in Python.
    subscriptions = [s for s in WebhookSubscription.objects.filter(is_active=True) if s.wants(event)]
    if not subscriptions:
        return []
    event_id, now = uuid.uuid4(), timezone.now()
    with transaction.atomic():
        deliveries = [
            WebhookDelivery.objects.create(
                subscription=subscription, event=event, event_id=event_id, payload=payload, created_at=now, next_attempt_at=now
            )
            for subscription in subscriptions
        ]
    for delivery in deliveries:
        _enqueue(delivery)
    return deliveries


def _enqueue(delivery: WebhookDelivery) -> None:
    from quota.webhooks.tasks import deliver_webhook

    enqueue_on_commit(deliver_webhook, delivery.pk)


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """The JSON POSTed: the event's id, name and time, and what happened (`data`)."""
    envelope = {
        "id": str(delivery.event_id),
        "event": delivery.event,
        "created_at": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(envelope, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False).encode()


def backoff_seconds(attempts: int) -> int:
    """How long to wait after `attempts` failed attempts."""
    return BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1]


def _claim(delivery_id: int) -> bool:
    now = timezone.now()
    claimable = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now + EARLY_TOLERANCE
    )
    return claimable.update(next_attempt_at=now + CLAIM) == 1


def delivery_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """POST a due delivery once and record the attempt; None when it was not due (done, or held by another attempt).

    Runs outside any transaction: no database transaction is held open while waiting for the receiver.
    """
    if not _claim(delivery_id):
        return None
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    subscription = delivery.subscription
    if not subscription.is_active:
        return _finish_unsent(delivery, _("The subscription was disabled before this delivery was sent."))

    body = delivery_body(delivery)
    headers = signing.signed_headers(secret=subscription.secret, event=delivery.event, delivery_id=str(delivery.uuid), body=body)
    attempted_at, started = timezone.now(), time.monotonic()
    code, excerpt, error, permanent = None, "", "", False
    try:
        answer = transport.post(subscription.url, body=body, headers=headers, timeout=TIMEOUT_SECONDS)
        code, excerpt = answer.status, answer.body_excerpt
    except transport.TargetRefused as refusal:
        error, permanent = str(refusal), True
    except (OSError, http.client.HTTPException) as exc:  # refused, timed out, TLS or protocol errors
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    succeeded = code is not None and 200 <= code < 300
    if code is not None and not succeeded:
        error = _("The receiver answered HTTP %(code)s.") % {"code": code}
    return _record_attempt(
        delivery,
        attempted_at=attempted_at,
        duration_ms=int((time.monotonic() - started) * 1000),
        code=code,
        excerpt=excerpt,
        error=error,
        succeeded=succeeded,
        permanent=permanent,
    )


@transaction.atomic
def _record_attempt(
    delivery: WebhookDelivery,
    *,
    attempted_at: dt.datetime,
    duration_ms: int,
    code: int | None,
    excerpt: str,
    error: str,
    succeeded: bool,
    permanent: bool,
) -> WebhookDelivery:
    delivery.attempts += 1
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        attempted_at=attempted_at,
        duration_ms=duration_ms,
        response_code=code,
        response_excerpt=excerpt,
        error=error,
        succeeded=succeeded,
    )
    delivery.response_code, delivery.response_excerpt, delivery.error = code, excerpt, error
    delivery.last_attempt_at = attempted_at
    if succeeded:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.SUCCEEDED, timezone.now(), None
    elif permanent or delivery.attempts >= MAX_ATTEMPTS:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
    else:
        delivery.next_attempt_at = timezone.now() + dt.timedelta(seconds=backoff_seconds(delivery.attempts))
    delivery.save(
        update_fields=[
            "attempts",
            "response_code",
            "response_excerpt",
            "error",
            "last_attempt_at",
            "status",
            "delivered_at",
            "next_attempt_at",
        ]
    )
    return delivery


def _finish_unsent(delivery: WebhookDelivery, reason: str) -> WebhookDelivery:
    delivery.status, delivery.error, delivery.next_attempt_at = DeliveryStatus.FAILED, reason, None
    delivery.save(update_fields=["status", "error", "next_attempt_at"])
    return delivery


@transaction.atomic
def delivery_redeliver(*, delivery: WebhookDelivery, by: Any) -> WebhookDelivery:
    """Send a delivery's event again as a new delivery (same event id, a fresh attempt budget)."""
    require(by, "webhooks.manage")
    if not delivery.subscription.is_active:
        raise ValidationError(_("Enable the subscription before redelivering its events."))
    now = timezone.now()
    again = WebhookDelivery.objects.create(
        subscription=delivery.subscription,
        event=delivery.event,
        event_id=delivery.event_id,
        payload=delivery.payload,
        created_at=now,
        next_attempt_at=now,
        redelivery_of=delivery,
    )
    _enqueue(again)
    return again


def overdue_delivery_ids(*, limit: int = 500) -> list[int]:
    """Pending deliveries whose retry is well overdue: the task message was lost, or no worker runs (embedded mode)."""
    overdue = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now() - SWEEP_GRACE)
    return list(overdue.order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
