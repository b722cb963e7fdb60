"""Celery tasks of the API: they call its services and nothing else."""

from __future__ import annotations

from celery import shared_task

from quota.api import idempotency


@shared_task(ignore_result=True)
def purge_idempotency_keys() -> int:
    """Forget Idempotency-Keys past their time (periodic); how many."""
    return idempotency.purge_expired()
