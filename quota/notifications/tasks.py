"""Celery tasks for notifications: they call the services (beat runs the check every hour)."""

from __future__ import annotations

from celery import shared_task

from quota.notifications.services import daily_digests_send, due_work_check, early_warnings_check


@shared_task(ignore_result=True)
def check_early_warnings() -> dict[str, int]:
    """Warn about targets behind pace and stalling reps; repeats are no-ops (each warning once per period or week)."""
    return early_warnings_check()


@shared_task(ignore_result=True)
def check_due_work() -> dict[str, int]:
    """Tell people about tasks and follow-ups due today and their stale deals; repeats are no-ops."""
    return due_work_check()


@shared_task(ignore_result=True)
def send_daily_digests() -> int:
    """E-mail the daily digest to those who asked for it, once per day from the digest hour on."""
    return daily_digests_send()
