"""Write paths for notifications: tell someone once (in the app and by e-mail), mark as read, the daily digest."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import ngettext

from quota.core.calendar import local_midnight
from quota.notifications import conf
from quota.notifications.models import UNREAD, Notification, NotificationKind, NotificationPreference

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
    """Tell people about targets behind pace or unlikely by the forecast, thin pipelines and reps stalling; each
    only once per target period / week.

    `email=False` notifies in the app only (the demo seed's made-up people have no mailbox).
    """
    from quota.notifications import checks, messages  # the checks read KPIs and records: loaded when used

    now = now or timezone.now()
    sent = {"targets_behind": 0, "reps_stalling": 0, "targets_unlikely": 0, "pipelines_thin": 0}
    for behind in checks.targets_behind(now=now):
        message = messages.target_behind(behind)
        for person in behind.people:
            if notify(user=person, email=email, **message.for_person(person)):
                sent["targets_behind"] += 1
    for warning in checks.forecast_warnings(now=now):
        told = [("targets_unlikely", messages.target_unlikely)] if warning.unlikely else []
        told += [("pipelines_thin", messages.pipeline_thin)] if warning.thin else []
        for counter, words in told:
            message = words(warning)
            for person in warning.people:
                if notify(user=person, email=email, **message.for_person(person)):
                    sent[counter] += 1
    for stalling in checks.stalling_reps(now=now):
        message = messages.rep_stalling(stalling, now=now)
        for manager in stalling.managers:
            if notify(user=manager, email=email, **message.for_person(manager)):
                sent["reps_stalling"] += 1
    return sent


# ----------------------------------------------------------------------------- work due and stale deals


def due_work_check(*, now: Any = None) -> dict[str, int]:
    """Tell people about their tasks and follow-ups due today and their stale deals, in the app.

    Each task once per due day, each person's stale deals once per week: the hourly run repeats nothing.
    Not e-mailed one by one (a morning of tasks would be a morning of mail): the daily digest carries them.
    """
    from quota.notifications import checks, messages

    now = now or timezone.now()
    sent = {"tasks_due": 0, "follow_ups_due": 0, "deals_stale": 0}
    for task in checks.tasks_due(now=now):
        message = messages.task_due(task)
        if notify(user=task.owner, email=False, **message.for_person(task.owner)):
            sent["follow_ups_due" if message.kind == NotificationKind.FOLLOW_UP_DUE else "tasks_due"] += 1
    for stale in checks.stale_deals_by_owner(now=now):
        message = messages.deals_stale(stale, now=now)
        if notify(user=stale.owner, email=False, **message.for_person(stale.owner)):
            sent["deals_stale"] += 1
    return sent


# ----------------------------------------------------------------------------- the daily digest


def digest_preference_set(*, user: Any, daily_digest: bool) -> NotificationPreference:
    preference, _created = NotificationPreference.objects.update_or_create(user=user, defaults={"daily_digest": daily_digest})
    return preference


def daily_digests_send(*, now: Any = None) -> int:
    """E-mail each person who asked for it the unread notifications since their last digest; returns how many went.

    A digest goes once per company day, from `NOTIFICATIONS_DIGEST_HOUR` on (the scheduler runs this hourly),
    in the person's language, and only when there is something to tell. Taking a person's digest is a
    conditional update, so two schedulers at once send it once; a mail failure is logged (that day is skipped).
    """
    now = now or timezone.now()
    if timezone.localtime(now).hour < conf.digest_hour():
        return 0
    today_start = local_midnight(timezone.localdate(now))
    not_yet_today = Q(digest_sent_at__isnull=True) | Q(digest_sent_at__lt=today_start)
    due = (
        NotificationPreference.objects.filter(not_yet_today, daily_digest=True, user__is_active=True)
        .exclude(user__email="")
        .select_related("user")
        .order_by("pk")
    )
    sent = 0
    for preference in due:
        if not NotificationPreference.objects.filter(not_yet_today, pk=preference.pk).update(digest_sent_at=now):
            continue  # another scheduler took it
        since = preference.digest_sent_at or now - dt.timedelta(days=1)
        notes = list(Notification.objects.filter(UNREAD, user=preference.user, created_at__gt=since, created_at__lte=now))
        if notes and _send_digest(preference.user, notes):
            sent += 1
    return sent


def _send_digest(user: Any, notes: list[Notification]) -> bool:
    with translation.override(getattr(user, "language", "") or settings.LANGUAGE_CODE):
        subject = ngettext("Quota: %(count)s new notification", "Quota: %(count)s new notifications", len(notes)) % {
            "count": len(notes)
        }
        body = render_to_string("notifications/email/digest.txt", {"user": user, "notifications": notes})
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    except Exception:
        logger.exception("Could not e-mail the daily digest to %s", user.email)
        return False
    return True
