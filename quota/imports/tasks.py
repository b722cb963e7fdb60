"""Celery tasks for imports: they call the services and nothing else.

Without Redis (the embedded default) Celery runs tasks eagerly, inside the request that queued
them: the page then finds the job done at its first look and shows the report at once.
"""

from __future__ import annotations

from celery import shared_task

from quota.imports import recovery, services


@shared_task(ignore_result=True)
def run_import_job(job_id: int) -> None:
    """A web import's dry run or commit; a second delivery of the same job does nothing."""
    services.job_run(job_id)


@shared_task(ignore_result=True)
def fail_stuck_jobs() -> int:
    """Stop the jobs whose worker died or never came, with the reason (periodic); how many."""
    return len(recovery.jobs_fail_stuck())
