"""Celery tasks of the forecast: they call the services and nothing else (scheduled in CELERY_BEAT_SCHEDULE).

Weekly the win-probability model is trained again (a new version, which scores the open deals at once); every
night the open deals are scored again with the latest version (their age and activity move on), and every few
minutes the deals that moved or opened since their last score are scored again.
Embedded (no Redis), `quota report scheduler` runs them from the same schedule.
"""

from __future__ import annotations

from celery import shared_task

from quota.forecasting.services import changed_deals_score, open_deals_score, win_model_train


@shared_task(ignore_result=True)
def retrain_win_model() -> str:
    """Train a new version of the win-probability model; says which method the forecast now uses."""
    win_model = win_model_train()
    return f"v{win_model.version} {win_model.method}"


@shared_task(ignore_result=True)
def score_open_deals() -> int:
    """Score every open deal with the latest model version; how many were scored."""
    return open_deals_score()


@shared_task(ignore_result=True)
def score_changed_deals() -> int:
    """Score again the open deals that moved or opened since their last score; how many were scored."""
    return changed_deals_score()
