"""Write paths for notifications: tell someone once (in the app and by e-mail), mark as read."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from quota.notifications.models import UNREAD, Notification

logger = logging.getLogger(__name__)


def notify(
    *, user: Any, kind: str, title: str, body: str, dedupe_key: str, link: str = "", email: bool = True
) -> Notification | None:
    """Notify `user` about `dedupe_key` unless they already were; None when it is a repeat.

    The unique (user, dedupe_key) constraint decides, so two checks running at once still notify once.
    The e-mail (unless `email` is false) goes after commit; a mail failure is logged and does not undo the notification.
    """
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                user=user, kind=kind, title=title, body=body, link=link, dedupe_key=dedupe_key
            )
    except IntegrityError:
        return None
    if email and user.email:
        transaction.on_commit(lambda: _email(notification, user.email), robust=True)
    return notification


def _email(notification: Notification, address: str) -> None:
    try:
        send_mail(notification.title, notification.body, settings.DEFAULT_FROM_EMAIL, [address])
    except Exception:
        logger.exception("Could not e-mail notification %s to %s", notification.pk, address)


def notifications_mark_read(*, user: Any, ids: Iterable[int] | None = None) -> int:
    """Mark `user`'s notifications read (those in `ids`, or all); returns how many changed."""
    unread = Notification.objects.filter(UNREAD, user=user)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())


# ----------------------------------------------------------------------------- early warnings


def early_warnings_check(*, now: Any = None, email: bool = True) -> dict[str, int]:
    """Tell people about targets behind pace and reps stalling; each only once per target period / week.

    `email=False` notifies in the app only (the demo seed's made-up people have no mailbox).
    """
    from quota.notifications import checks, messages  # the checks read KPIs and records: loaded when used

    now = now or timezone.now()
    sent = {"targets_behind": 0, "reps_stalling": 0}
    for behind in checks.targets_behind(now=now):
        message = messages.target_behind(behind)
        for person in behind.people:
            if notify(user=person, email=email, **message.for_person(person)):
                sent["targets_behind"] += 1
    for stalling in checks.stalling_reps(now=now):
        message = messages.rep_stalling(stalling, now=now)
        for manager in stalling.managers:
            if notify(user=manager, email=email, **message.for_person(manager)):
                sent["reps_stalling"] += 1
    return sent
