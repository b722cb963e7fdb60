"""The embedded scheduler: the periodic work Celery beat runs, run from one process without Redis.

The work is declared once, in `settings.CELERY_BEAT_SCHEDULE` (task name, schedule, arguments).
Beat reads it in production; `quota report scheduler` calls `run_due()` every minute (or once, from
cron) in the embedded default, running each task that is due in this process.

When each entry last ran is kept in the database (a `Heartbeat` "periodic:<name>"), so a cron job
running `--once` every minute still runs an hourly task hourly, and taking an entry is a
conditional update: two schedulers at once do not both run it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from celery.schedules import BaseSchedule, maybe_schedule
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from quota.core.models import Heartbeat
from quota.core.services import heartbeat_record
from quota.core.tasks import SCHEDULER_KEY

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    name: str
    task: str
    schedule: BaseSchedule
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"periodic:{self.name}"


@dataclass(frozen=True)
class Ran:
    name: str
    result: Any
    failed: bool


def entries() -> list[Entry]:
    """The periodic work as declared in settings.CELERY_BEAT_SCHEDULE."""
    from quota.celery import app

    declared: dict[str, dict[str, Any]] = settings.CELERY_BEAT_SCHEDULE
    return [
        Entry(
            name=name,
            task=spec["task"],
            schedule=maybe_schedule(spec["schedule"], app=app),
            args=tuple(spec.get("args", ())),
            kwargs=dict(spec.get("kwargs", {})),
        )
        for name, spec in declared.items()
    ]


def run_due(*, now: dt.datetime | None = None) -> list[Ran]:
    """One pass: run here every entry that is due, in declaration order; what ran and what each returned."""
    now = now or timezone.now()
    heartbeat_record(SCHEDULER_KEY, at=now, detail=f"{socket.gethostname()}:{os.getpid()}")
    last_runs = dict(Heartbeat.objects.filter(key__startswith="periodic:").values_list("key", "at"))
    ran = []
    for entry in entries():
        last = last_runs.get(entry.key)
        if last is not None and not _is_due(entry.schedule, last, now):
            continue
        task = _task(entry.task)
        if task is None:
            logger.error("Periodic entry %s names the unknown task %s: skipped", entry.name, entry.task)
            continue
        if not _take(entry, last, now):
            continue  # another scheduler took it
        result = task.apply(args=entry.args, kwargs=entry.kwargs)
        if result.failed():
            logger.error("Periodic task %s failed: %r", entry.name, result.result, exc_info=result.result)
        ran.append(Ran(entry.name, None if result.failed() else result.result, result.failed()))
    return ran


def _task(name: str) -> Any:
    """The registered task `name`, importing its module first (Celery's default names are dotted paths)."""
    from quota.celery import app

    if name not in app.tasks:
        with contextlib.suppress(ImportError):
            import_module(name.rpartition(".")[0])
    return app.tasks.get(name)


def _is_due(schedule: BaseSchedule, last: dt.datetime, now: dt.datetime) -> bool:
    schedule.nowfun = lambda: now  # the pass's time, not the clock's (a fresh schedule object per pass)
    return bool(schedule.is_due(last).is_due)


def _take(entry: Entry, last: dt.datetime | None, now: dt.datetime) -> bool:
    """Claim this run of the entry: moving its last run from `last` to `now` only if nobody moved it first."""
    if last is not None:
        return bool(Heartbeat.objects.filter(key=entry.key, at=last).update(at=now))
    try:
        with transaction.atomic():
            Heartbeat.objects.create(key=entry.key, at=now)
    except IntegrityError:
        return False
    return True
