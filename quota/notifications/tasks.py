"""Celery tasks for notifications: they call the services (beat runs the check every hour)."""

from __future__ import annotations

from celery import shared_task

from quota.notifications.services import early_warnings_check


@shared_task(ignore_result=True)
def check_early_warnings() -> dict[str, int]:
    """Warn about targets behind pace and stalling reps; repeats are no-ops (each warning once per period or week)."""
    return early_warnings_check()
