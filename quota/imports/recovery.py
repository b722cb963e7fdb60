"""Import jobs whose worker died, or that no worker started: found, stopped with the reason, started again.

A web import runs in a task (`job_run`). Its worker may be killed mid-run (a deploy, the OOM killer)
or never get the task (the broker lost it): the job would say "running" or "waiting" forever. So:

- the run claims the job with a token and its worker's `host:pid`, and gives a sign of life
  (`heartbeat_at`) every HEARTBEAT_SECONDS while it reads rows. The import itself is one transaction,
  so on PostgreSQL the sign is written through a second connection of its own; SQLite takes one writer
  at a time, so there a worker is known alive by its process (SQLite is one machine: the file's).
- `jobs_fail_stuck()` (periodic) stops a job "running" without a sign of life for
  IMPORTS_STUCK_RUNNING_SECONDS, or "waiting" for IMPORTS_STUCK_WAITING_SECONDS, with the reason; a stopped
  commit is also kept in the import history as a failed run. Its transaction died with its worker, so
  nothing of it was written.
- `services.job_restart()` (the "Start again" button) queues the same dry run or commit again.
- a worker that finds its job taken from it (stopped, or started again) stops without writing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from quota.imports.models import ImportJob, ImportJobPhase, ImportJobState, ImportRun, ImportRunStatus
from quota.imports.report import Report

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30


class JobTakenOver(Exception):
    """The job is no longer this run's (stopped as dead, or started again): stop without writing."""


def running_seconds() -> int:
    return int(getattr(settings, "IMPORTS_STUCK_RUNNING_SECONDS", 600))


def waiting_seconds() -> int:
    return int(getattr(settings, "IMPORTS_STUCK_WAITING_SECONDS", 1800))


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def new_run_token() -> str:
    return uuid.uuid4().hex


def alive_here(worker: str) -> bool:
    """Whether `worker` ("host:pid") is a live process on this machine (False for another machine's)."""
    host, _sep, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def heartbeats_possible(using: str = DEFAULT_DB_ALIAS) -> bool:
    """A second connection can write while the import's transaction is open: PostgreSQL, not SQLite."""
    return connections[using].vendor == "postgresql"


class Heartbeat:
    """Called after each batch of rows: every HEARTBEAT_SECONDS, records a sign of life outside the import's transaction."""

    def __init__(self, job_id: int, token: str, *, started: dt.datetime) -> None:
        self.job_id = job_id
        self.token = token
        self.last = started
        self.connection: Any = None

    def __call__(self) -> None:
        now = timezone.now()
        if (now - self.last).total_seconds() < HEARTBEAT_SECONDS or not heartbeats_possible():
            return
        self.last = now
        try:
            ours = self._beat(now)
        except DatabaseError:  # a missed sign of life must not fail the import: try again at the next beat
            logger.warning("Import job %s: could not record a sign of life", self.job_id, exc_info=True)
            self.close()
            return
        if not ours:
            raise JobTakenOver(self.job_id)

    def _beat(self, now: dt.datetime) -> bool:
        """Record the sign of life; False when the job is visibly no longer this run's."""
        if self.connection is None:
            self.connection = connections.create_connection(DEFAULT_DB_ALIAS)
        table = self.connection.ops.quote_name(ImportJob._meta.db_table)
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET heartbeat_at = %s WHERE id = %s AND run_token = %s AND state = %s",
                [now, self.job_id, self.token, ImportJobState.RUNNING],
            )
            if cursor.rowcount:
                return True
            cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s", [self.job_id])
            return cursor.fetchone() is None  # (an uncommitted job, as in a test's transaction, is not seen)

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(DatabaseError):
                self.connection.close()
            self.connection = None


@dataclass(frozen=True)
class Stuck:
    job: ImportJob
    reason: str


def stuck_jobs(*, now: dt.datetime | None = None) -> list[Stuck]:
    """Jobs waiting for a worker too long, and jobs running without a sign of life too long."""
    now = now or timezone.now()
    found = []
    waited = now - dt.timedelta(seconds=waiting_seconds())
    for job in ImportJob.objects.filter(state=ImportJobState.WAITING, updated_at__lt=waited).order_by("pk"):
        reason = _(
            "No worker started this import within %(minutes)d minutes (is the Celery worker running?). "
            "Nothing was imported; start it again."
        ) % {"minutes": waiting_seconds() // 60}
        found.append(Stuck(job, reason))
    silent = now - dt.timedelta(seconds=running_seconds())
    last_sign = Q(heartbeat_at__lt=silent) | Q(heartbeat_at__isnull=True, updated_at__lt=silent)
    for job in ImportJob.objects.filter(last_sign, state=ImportJobState.RUNNING).order_by("pk"):
        if not heartbeats_possible() and alive_here(job.worker):
            continue  # SQLite: no heartbeat can be written mid-import, but its process is alive
        seen = timezone.localtime(job.heartbeat_at or job.updated_at)
        reason = _(
            "The worker running this import stopped (%(worker)s, no sign of life since %(time)s), so it did not "
            "finish and nothing of it was imported. Start it again."
        ) % {"worker": job.worker or _("unknown"), "time": f"{seen:%Y-%m-%d %H:%M}"}
        found.append(Stuck(job, reason))
    return found


def jobs_fail_stuck(*, now: dt.datetime | None = None) -> list[int]:
    """Stop every stuck job with its reason (a stopped commit also goes into the history); the ids stopped."""
    now = now or timezone.now()
    stopped = []
    for stuck in stuck_jobs(now=now):
        if _stop(stuck, now):
            logger.warning("Import job %s stopped: %s", stuck.job.pk, stuck.reason)
            stopped.append(stuck.job.pk)
    return stopped


def _stop(stuck: Stuck, now: dt.datetime) -> bool:
    found = stuck.job
    with transaction.atomic():
        # Only if nothing moved since it was found stuck (its worker finishing, another run claiming it).
        job = (
            ImportJob.objects.select_for_update()
            .filter(
                pk=found.pk,
                state=found.state,
                run_token=found.run_token,
                updated_at=found.updated_at,
                heartbeat_at=found.heartbeat_at,
            )
            .first()
        )
        if job is None:
            return False
        dry_run = job.phase == ImportJobPhase.CHECK
        report = Report(title=job.file_name, dry_run=dry_run, on_duplicate=job.on_duplicate, skip_bad_rows=False)
        report.fail(stuck.reason)
        job.report, job.problems_total, job.state, job.stopped_reason = report.as_dict(), 0, ImportJobState.DONE, stuck.reason
        fields = ["report", "problems_total", "state", "stopped_reason", "updated_at"]
        if not dry_run:
            job.run = ImportRun.objects.create(
                title=f"Import of {job.file_name} into {job.into}"[:200],
                preset=job.preset,
                by=job.by,
                status=ImportRunStatus.FAILED,
                reason=stuck.reason,
                on_duplicate=job.on_duplicate,
                started_at=job.heartbeat_at or job.updated_at,
                finished_at=now,
                files=[job.file_name],
                mappings=[{"step": job.into, **job.mapping}],
                report=report.as_dict(),
            )
            fields.append("run")
        job.problems.all().delete()
        job.save(update_fields=fields)
    return True
