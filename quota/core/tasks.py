"""Celery tasks of the ground floor: a worker's sign of life."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from quota.core.services import heartbeat_record

WORKER_KEY = "worker"
SCHEDULER_KEY = "scheduler"  # the embedded scheduler's last pass (core.periodic)


@shared_task(bind=True, ignore_result=True)
def record_worker_heartbeat(self) -> bool:
    """Beat queues this every minute; a worker running it shows that beat, the broker and a worker all work.

    Run in process (the embedded scheduler, or a broker outage) it vouches for no worker and records nothing.
    """
    if self.request.is_eager:
        return False
    heartbeat_record(WORKER_KEY, at=timezone.now(), detail=str(self.request.hostname or ""))
    return True
