"""Celery tasks for reports: they call the services and decide when to try again.

Beat runs `run_due_reports` every minute; the schedules themselves are rows (Report.next_run_at).
Tasks are acknowledged late and rejected when their worker is lost (settings), so a task whose
worker died is delivered again; the delivery's claim makes that harmless.
"""

from __future__ import annotations

from celery import shared_task

from quota.reports.deliveries import delivery_run
from quota.reports.scheduler import due_reports_run


@shared_task(ignore_result=True)
def run_due_reports() -> int:
    """Queue the reports whose schedule slot has come (each slot once)."""
    return len(due_reports_run())


@shared_task(bind=True, max_retries=None, ignore_result=True)
def deliver_report(self, delivery_id: int) -> None:
    """Render and send one delivery; wait and try again while another worker holds it or the mail server fails."""
    result = delivery_run(delivery_id=delivery_id)
    if result.retry_in is None or self.request.is_eager:
        return  # eager (embedded): the scheduler's next pass queues it again
    raise self.retry(countdown=result.retry_in)
