"""The words of each early warning, in the language of the person told."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from quota.kpi.formatting import as_text
from quota.notifications.checks import StallingRep, TargetBehind
from quota.notifications.models import NotificationKind


@dataclass(frozen=True)
class Message:
    kind: str
    dedupe_key: str
    link: str
    words: Callable[[], tuple[str, str]]  # title and text, in the active language

    def for_person(self, person: Any) -> dict[str, str]:
        with translation.override(getattr(person, "language", "") or settings.LANGUAGE_CODE):
            title, body = self.words()
        return {"kind": self.kind, "dedupe_key": self.dedupe_key, "link": self.link, "title": title[:200], "body": body}


def _url(name: str, query: str = "") -> str:
    try:
        return reverse(name) + query
    except NoReverseMatch:
        return ""


def target_behind(behind: TargetBehind) -> Message:
    target, state = behind.target, behind.item.progress
    assert state is not None and state.pace is not None
    metric, pace = target.metric, state.pace

    def words() -> tuple[str, str]:
        unit = metric.unit
        title = _("%(kpi)s is behind pace: %(scope)s") % {"kpi": metric.display_name, "scope": target.scope_label}
        body = _(
            "%(scope)s has reached %(actual)s of the %(target)s target for %(kpi)s (%(start)s to %(end)s) with %(elapsed).0f %% "
            "of the period gone: %(pace).0f %% of the expected pace. At this rate the period ends at %(forecast)s."
        ) % {
            "scope": target.scope_label,
            "actual": as_text(state.actual, unit),
            "target": as_text(state.target, unit),
            "kpi": metric.display_name,
            "start": target.start.isoformat(),
            "end": target.end.isoformat(),
            "elapsed": state.elapsed * 100,
            "pace": pace * 100,
            "forecast": as_text(state.forecast, unit),
        }
        return title, body

    key = f"target-behind:{target.pk}:{target.start.isoformat()}:{target.end.isoformat()}"
    return Message(NotificationKind.TARGET_BEHIND, key, _url("home"), words)


def rep_stalling(stalling: StallingRep, *, now: dt.datetime) -> Message:
    rep = stalling.rep
    year, week, _weekday = timezone.localtime(now).isocalendar()

    def words() -> tuple[str, str]:
        title = _("%(rep)s may be stalling") % {"rep": rep}
        body = _(
            "%(rep)s has won no deal in the last %(weeks)s weeks and logged %(recent)s calls, e-mails and meetings, "
            "against %(earlier)s in the %(weeks)s weeks before."
        ) % {"rep": rep, "weeks": stalling.weeks, "recent": stalling.recent, "earlier": stalling.earlier}
        return title, body

    key = f"rep-stalling:{rep.pk}:{year}-W{week:02d}"
    return Message(NotificationKind.REP_STALLING, key, _url("activities:activity_list", f"?owner={rep.pk}"), words)
