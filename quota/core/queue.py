"""Handing work to Celery, and running it here when the broker cannot take it.

Every task a web request, a command or another task queues goes through `enqueue()`. With Redis
(the broker) down, publishing fails; the work then runs in this process, as in the embedded
default (no REDIS_URL), instead of failing the request that asked for it. Why in-process rather
than a durable outbox: the tasks Quota queues are already safe to run twice (a report delivery,
an import job and a webhook delivery are claimed in the database first), and an outbox would only
be drained by Celery beat or a worker, which need the same broker: the work would wait for Redis
to come back, and the page that asked for it would wait with it.

After a failure the broker is not asked again for a short while (`BROKER_RETRY_SECONDS`), so an
outage costs one failed connection per process, not one per request.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

BROKER_RETRY_SECONDS = 30.0
# One quick retry of the publish (a broker restarting), not Celery's default of three with back-off.
PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
BROKER_ERRORS = (OperationalError, RedisConnectionError, RedisTimeoutError, OSError)

_lock = threading.Lock()
_broker_down_until = 0.0


def enqueue(task: Task, *args: Any, **kwargs: Any) -> None:
    """Queue `task(*args, **kwargs)` for a worker; run it here when the broker is down. Never raises for the broker."""
    if not _broker_suspected_down():
        try:
            task.apply_async(args=args, kwargs=kwargs, retry=True, retry_policy=PUBLISH_RETRY)
            return
        except BROKER_ERRORS as error:
            _mark_broker_down()
            logger.warning("The task broker is unavailable (%s); running %s in this process", error, task.name)
    run_here(task, *args, **kwargs)


def enqueue_on_commit(task: Task, *args: Any, using: str | None = None, **kwargs: Any) -> None:
    """`enqueue` once the current transaction commits; a failure is logged, never raised into the committed request."""
    transaction.on_commit(lambda: enqueue(task, *args, **kwargs), using=using, robust=True)


def run_here(task: Task, *args: Any, **kwargs: Any) -> None:
    """Run the task in this process (eagerly, as Celery does without a broker); log a failure, do not raise it."""
    result = task.apply(args=args, kwargs=kwargs)
    if result.failed():
        logger.error("Task %s failed in process: %r", task.name, result.result, exc_info=result.result)


def broker_state() -> str:
    """ "down" while a recent publish failed, else "unknown" (ask the broker: see core.health)."""
    return "down" if _broker_suspected_down() else "unknown"


def forget_broker_failure() -> None:
    """Ask the broker again at the next task (tests, and after an operator fixed it)."""
    global _broker_down_until
    with _lock:
        _broker_down_until = 0.0


def _broker_suspected_down() -> bool:
    return time.monotonic() < _broker_down_until


def _mark_broker_down() -> None:
    global _broker_down_until
    with _lock:
        _broker_down_until = time.monotonic() + BROKER_RETRY_SECONDS
