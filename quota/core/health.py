"""What /healthz reports: the database, the cache, the task broker, the worker and what apps add (KPI rollups).

Each check answers {"status": ..., more facts}; a status is "ok", "in-process" (the embedded
default: no Redis, tasks run in the web process), "degraded" (works, but slower or late: Redis down,
no worker heartbeat, stale rollups) or "down" (the database: nothing works). The overall status is
"down" (HTTP 503) only when the database is down; any degraded part makes it "degraded" (HTTP 200:
pages and writes still work). Every check is bounded by a short timeout, so a load balancer's probe
never hangs on a dead dependency.

Apps add checks with `register(name, check)` from their AppConfig.ready() (the ground floor does not
import the apps above it); such a check reads the database and runs only when it is up.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from quota.core.models import Heartbeat
from quota.core.tasks import SCHEDULER_KEY, WORKER_KEY

logger = logging.getLogger(__name__)

OK, IN_PROCESS, DEGRADED, DOWN = "ok", "in-process", "degraded", "down"
TIMEOUT_SECONDS = 2.0
WORKER_STALE_SECONDS = 180  # beat queues the heartbeat every minute: three missed ones mean no worker

Check = Callable[[], dict[str, Any]]
_registered: dict[str, Check] = {}


def register(name: str, check: Check) -> None:
    """Add a check that reads the database (run only while it answers)."""
    _registered[name] = check


def report() -> tuple[str, dict[str, dict[str, Any]]]:
    """(overall status, each check's answer)."""
    checks: dict[str, dict[str, Any]] = {"database": _timed(database)}
    database_up = checks["database"]["status"] == OK
    checks["cache"] = _timed(cache)
    checks["broker"] = _timed(broker)
    reading: dict[str, Check] = {"worker": worker, **_registered}
    for name, check in reading.items():
        checks[name] = _timed(check, bounded=True) if database_up else {"status": "unknown", "error": "the database is down"}
    if not database_up:
        return DOWN, checks
    degraded = any(answer["status"] not in (OK, IN_PROCESS) for answer in checks.values())
    return (DEGRADED if degraded else OK), checks


def _timed(check: Check, *, bounded: bool = False) -> dict[str, Any]:
    started = time.monotonic()
    try:
        if bounded:
            with statement_timeout():
                answer = check()
        else:
            answer = check()
    except Exception as error:  # a check that fails is a finding, not a failed probe
        logger.warning("Health check %s failed: %s", getattr(check, "__name__", check), error)
        answer = {"status": DEGRADED, "error": _one_line(error)}
    answer["ms"] = round((time.monotonic() - started) * 1000, 1)
    return answer


def _one_line(error: BaseException) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())[:300]


@contextmanager
def statement_timeout(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """A transaction whose statements PostgreSQL stops after TIMEOUT_SECONDS (SQLite answers locally)."""
    connection = connections[using]
    with transaction.atomic(using=using):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = %s", [int(TIMEOUT_SECONDS * 1000)])
        yield


# -- the checks ---------------------------------------------------------------------------------------------------


def database() -> dict[str, Any]:
    try:
        with statement_timeout(), connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return {"status": DOWN, "error": _one_line(error)}
    return {"status": OK, "vendor": connections[DEFAULT_DB_ALIAS].vendor}


def cache() -> dict[str, Any]:
    backend = caches["default"]
    if not _uses_redis(backend):
        return {"status": OK, "backend": type(backend).__name__}
    from django_redis import get_redis_connection

    try:
        get_redis_connection("default").ping()
    except Exception as error:  # the backend ignores Redis errors; ask Redis itself
        return {"status": DEGRADED, "backend": "redis", "error": _one_line(error), "effect": "pages work without a cache"}
    return {"status": OK, "backend": "redis"}


def _uses_redis(backend: Any) -> bool:
    return type(backend).__module__.startswith("django_redis")


def broker() -> dict[str, Any]:
    from quota.celery import app

    if app.conf.task_always_eager:
        return {"status": IN_PROCESS}
    try:
        with app.connection_for_write(connect_timeout=TIMEOUT_SECONDS) as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=TIMEOUT_SECONDS)
    except Exception as error:
        return {"status": DEGRADED, "error": _one_line(error), "effect": "tasks run in the web process"}
    return {"status": OK}


def worker() -> dict[str, Any]:
    from quota.celery import app

    if app.conf.task_always_eager:
        # No worker: tasks run in the web process, periodic work in `quota report scheduler` (its last pass, if any).
        scheduler = Heartbeat.objects.filter(key=SCHEDULER_KEY).first()
        return {"status": IN_PROCESS, "scheduler_last_seen": scheduler.at.isoformat() if scheduler else None}
    beat = Heartbeat.objects.filter(key=WORKER_KEY).first()
    if beat is None:
        return {"status": DEGRADED, "error": "no Celery worker has reported yet (is `celery -A quota worker` running, and beat?)"}
    age = (timezone.now() - beat.at).total_seconds()
    answer = {"last_seen": beat.at.isoformat(), "seconds_ago": round(age), "host": beat.detail}
    if age > WORKER_STALE_SECONDS:
        return {"status": DEGRADED, **answer, "error": f"no worker heartbeat for {dt.timedelta(seconds=round(age))}"}
    return {"status": OK, **answer}
