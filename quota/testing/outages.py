"""Test helpers for outages: the production settings for a given Redis, and Celery pointed at a broker.

Tests run with the test settings (local-memory cache, eager Celery). An outage test asks what
production would do: `production_settings("redis://127.0.0.1:1/0")` runs quota/settings/base.py
as production does (with that REDIS_URL) and returns its values; `celery_broker()` points Celery at
a broker for the duration (eager off), then puts it back.
"""

from __future__ import annotations

import os
import runpy
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

from kombu import pools

import quota.settings.base
from quota.celery import app
from quota.core import queue

# Nothing listens on port 1: connections are refused at once, as when Redis is down.
REDIS_DOWN = "redis://127.0.0.1:1/0"
# The real Redis of the development machine and CI, on a database of the outage tests' own.
REDIS_UP = "redis://127.0.0.1:6379/9"


def production_settings(redis_url: str) -> dict[str, Any]:
    """The settings production computes from the environment, with REDIS_URL=`redis_url`."""
    with mock.patch.dict(os.environ, {"REDIS_URL": redis_url, "SECRET_KEY": os.environ.get("SECRET_KEY") or "test"}):
        return runpy.run_path(str(Path(quota.settings.base.__file__)))


@contextmanager
def celery_broker(url: str, *, eager: bool = False, queue_name: str | None = None) -> Iterator[None]:
    """Celery publishes to `url` (not eagerly) inside the block; its connection pools are dropped on the way in and out."""
    saved = {
        "broker_url": app.conf.broker_url,
        "task_always_eager": app.conf.task_always_eager,
        "task_default_queue": app.conf.task_default_queue,
    }
    _drop_pools()
    queue.forget_broker_failure()
    app.conf.broker_url, app.conf.task_always_eager = url, eager
    if queue_name:
        app.conf.task_default_queue = queue_name
    try:
        yield
    finally:
        _drop_pools()
        queue.forget_broker_failure()
        for name, value in saved.items():
            setattr(app.conf, name, value)


def _drop_pools() -> None:
    """Close kombu's pools (they are global, keyed by broker URL) and forget the app's handles on them."""
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
