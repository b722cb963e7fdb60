"""`unread_notifications` in every template: the count for the link in the top bar."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from django.http import HttpRequest

from quota.notifications.selectors import unread_count


def unread_notifications(request: HttpRequest) -> dict[str, Callable[[], int]]:
    user = getattr(request, "user", None)

    # A callable: templates call it when they show the count (one query), pages that do not never query.
    @cache
    def count() -> int:
        return unread_count(user)

    return {"unread_notifications": count}
