"""The Celery app test_worker.py starts: Quota's own, with an optional pause in rendering to kill the worker in."""

import os
import time
from typing import Any

from celery.signals import task_prerun

from quota.celery import app

PAUSE = float(os.environ.get("QUOTA_TEST_RENDER_PAUSE", "0"))


@task_prerun.connect
def _pause_rendering(**kwargs: Any) -> None:
    """Wrap every renderer in a sleep (once, when the first task starts: Django is set up by then)."""
    from quota.reports.renderers import RENDERERS, Renderer

    if not PAUSE or getattr(RENDERERS["csv"].render, "paused", False):
        return
    for fmt, renderer in list(RENDERERS.items()):

        def slow(content: Any, render: Any = renderer.render) -> bytes:
            time.sleep(PAUSE)
            return render(content)

        slow.paused = True  # type: ignore[attr-defined]
        RENDERERS[fmt] = Renderer(slow, renderer.content_type)


__all__ = ["app"]
