"""Quota: an open-source CRM built around KPIs."""

from .celery import app as celery_app

__all__ = ["celery_app"]
