"""Celery tasks for web forms: they call the services."""

from __future__ import annotations

from celery import shared_task

from quota.webforms import services
from quota.webforms.models import WebFormSubmission


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=60, max_retries=3)
def send_submission_confirmation(submission_id: int) -> None:
    """E-mail the sender a confirmation; an unreachable mail server is tried again a few times."""
    submission = WebFormSubmission.objects.select_related("form").filter(pk=submission_id).first()
    if submission is not None:
        services.submission_send_confirmation(submission=submission)
