"""Which reports are due, and queuing each schedule slot's delivery exactly once.

Beat (production) or `quota report scheduler` (embedded) calls `due_reports_run()` every minute.
For each active report whose `next_run_at` has passed:

- the slot sent is the latest one at or before now: after downtime, the missed slots are caught up
  with one delivery (of the latest), not one per missed slot;
- `next_run_at` moves to the first slot after now, by a conditional update, so two schedulers
  running at once do not both take the report;
- the delivery row is created in the same transaction; its unique (report, slot) constraint is
  the idempotency key: a slot that already has a row is never queued again.

The task is queued after commit. A delivery whose task message was lost (a broker restart, a
crash between commit and queuing) is queued again after a while; the claim in deliveries.py
makes duplicate tasks harmless.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from quota.core.queue import enqueue
from quota.reports import conf
from quota.reports.choices import DeliveryStatus, DeliveryTrigger
from quota.reports.models import Report, ReportDelivery
from quota.reports.slots import latest_slot_at_or_before, next_slot_after


def enqueue_delivery(delivery_id: int) -> None:
    """Hand the delivery to a worker (or run it here: the embedded default, or the broker is down)."""
    from quota.reports.tasks import deliver_report  # tasks import the services, not the other way round

    enqueue(deliver_report, delivery_id)


def due_reports_run(*, now: dt.datetime | None = None) -> list[int]:
    """Queue the deliveries of the reports due at `now`, and re-queue lost ones; returns the ids queued."""
    now = now or timezone.now()
    queued = []
    for report in Report.objects.filter(is_active=True, next_run_at__lte=now).order_by("next_run_at", "pk"):
        delivery = _claim_slot(report, now)
        if delivery is not None:
            queued.append(delivery.pk)
    return queued + _requeue_lost(now)


@transaction.atomic
def _claim_slot(report: Report, now: dt.datetime) -> ReportDelivery | None:
    schedule = report.schedule
    moved = Report.objects.filter(pk=report.pk, next_run_at=report.next_run_at).update(next_run_at=next_slot_after(schedule, now))
    if not moved:
        return None  # another scheduler took this report between our read and our update
    slot = latest_slot_at_or_before(schedule, now)
    if slot is None:
        return None
    try:
        with transaction.atomic():
            delivery = ReportDelivery.objects.create(report=report, slot=slot, trigger=DeliveryTrigger.SCHEDULE, enqueued_at=now)
    except IntegrityError:
        return None  # this slot has its delivery already: it goes out once
    transaction.on_commit(partial(enqueue_delivery, delivery.pk), robust=True)
    return delivery


def _requeue_lost(now: dt.datetime) -> list[int]:
    """Deliveries queued long ago that no worker started, or whose worker's claim lapsed: queue them again."""
    stale = now - dt.timedelta(seconds=conf.requeue_after_seconds())
    ids = list(
        ReportDelivery.objects.filter(
            Q(status=DeliveryStatus.QUEUED, enqueued_at__lt=stale)
            | Q(status__in=[DeliveryStatus.RUNNING, DeliveryStatus.SENDING], lease_until__lt=now, enqueued_at__lt=stale)
        ).values_list("pk", flat=True)
    )
    if ids:
        ReportDelivery.objects.filter(pk__in=ids).update(enqueued_at=now)
        for delivery_id in ids:
            transaction.on_commit(partial(enqueue_delivery, delivery_id), robust=True)
    return ids
