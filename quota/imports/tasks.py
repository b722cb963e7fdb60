"""Celery tasks for imports: they call the services and nothing else.

Reading an upload, a dry run and a commit all run here, never in the request that asked for them
(a workbook can be a zip bomb; the limits on what a file holds are applied while it is read).
Without Redis (the embedded default) Celery runs tasks eagerly, inside the request that queued
them: the page then finds the job done at its first look and shows the result at once.
"""

from __future__ import annotations

from celery import shared_task

from quota.imports import recovery, services


@shared_task(ignore_result=True)
def run_import_job(job_id: int) -> None:
    """A web import's dry run or commit; a second delivery of the same job does nothing."""
    services.job_run(job_id)


@shared_task(ignore_result=True)
def read_import_file(job_id: int) -> None:
    """An upload's first reading (header, samples, rows, within the limits on a file); a second delivery does nothing."""
    services.job_read(job_id)


@shared_task(ignore_result=True)
def fail_stuck_jobs() -> int:
    """Stop the jobs whose worker died or never came, with the reason (periodic); how many."""
    return len(recovery.jobs_fail_stuck())
