"""Celery tasks for forecast calls: they call the services (beat runs the record daily, settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task

from quota.forecasting.calls import forecast_calls_record


@shared_task(ignore_result=True)
def record_forecast_calls() -> int:
    """Record today's model P50 and weighted forecast for every person, team and the company; repeats are no-ops."""
    return forecast_calls_record()
