"""Celery tasks for webhooks: they call the services and decide when to try again."""

from __future__ import annotations

from celery import shared_task

from quota.core.queue import enqueue
from quota.webhooks import services
from quota.webhooks.models import DeliveryStatus


# The attempt budget is the delivery's own (services.MAX_ATTEMPTS), not Celery's retry counter, because the
# sweep and redeliveries may start new task chains for one delivery.
@shared_task(bind=True, max_retries=None, ignore_result=True)
def deliver_webhook(self, delivery_id: int) -> None:
    """Attempt one delivery; after a failure Celery tries again once the back-off has passed."""
    delivery = services.delivery_attempt(delivery_id=delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return
    if self.request.is_eager:
        # Eager Celery would retry at once, inside the web request: leave it to `send_overdue_webhooks`.
        return
    raise self.retry(countdown=services.backoff_seconds(delivery.attempts))


@shared_task(ignore_result=True)
def send_overdue_webhooks() -> int:
    """Queue deliveries whose retry is overdue; run it every minute (beat) or from cron (`quota send_webhooks`)."""
    ids = services.overdue_delivery_ids()
    for delivery_id in ids:
        enqueue(deliver_webhook, delivery_id)
    return len(ids)
