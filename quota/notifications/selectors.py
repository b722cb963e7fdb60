"""Read paths for notifications."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from quota.notifications.models import UNREAD, Notification, NotificationPreference


def notifications_for(user: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user)


def unread_count(user: Any) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(UNREAD, user=user).count()


def digest_enabled(user: Any) -> bool:
    """Whether `user` asked for the daily e-mail digest (off unless they turned it on)."""
    return NotificationPreference.objects.filter(user=user, daily_digest=True).exists()
