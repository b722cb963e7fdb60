"""The words of each early warning, in the language of the person told."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from quota.activities.models import Activity
from quota.crm.choices import DealStatus
from quota.crm.selectors import stale_after_days
from quota.kpi.formatting import as_text
from quota.notifications.checks import ForecastWarning, StaleDeals, StallingRep, TargetBehind
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


def target_unlikely(warning: ForecastWarning) -> Message:
    """The forecast gives a target little chance: once per target and period."""
    target, row = warning.target, warning.row
    reach, goal = row.reach, row.target
    assert reach is not None and goal is not None

    def words() -> tuple[str, str]:
        title = _("%(scope)s is unlikely to reach the %(kpi)s target") % {
            "scope": target.scope_label,
            "kpi": target.metric.display_name,
        }
        body = _(
            "The forecast gives %(scope)s a %(chance).0f %% chance of reaching %(target)s by %(end)s: %(won)s won so "
            "far, and the open deals expected to close bring between %(p10)s and %(p90)s in nine periods out of ten "
            "(P10 to P90, won so far included)."
        ) % {
            "scope": target.scope_label,
            "chance": reach * 100,
            "target": as_text(goal, target.metric.unit),
            "end": target.end.isoformat(),
            "won": as_text(row.won, target.metric.unit),
            "p10": as_text(row.p10, target.metric.unit),
            "p90": as_text(row.p90, target.metric.unit),
        }
        return title, body

    key = f"target-unlikely:{target.pk}:{target.start.isoformat()}:{target.end.isoformat()}"
    return Message(NotificationKind.TARGET_UNLIKELY, key, _url("forecasting:forecast"), words)


def pipeline_thin(warning: ForecastWarning) -> Message:
    """A person's pipeline covers too little of what is left of their target: once per target and period."""
    target, row = warning.target, warning.row
    assert row.coverage is not None and row.remaining is not None

    def words() -> tuple[str, str]:
        title = _("Too little pipeline for %(scope)s's target") % {"scope": target.scope_label}
        body = _(
            "%(scope)s has %(pipeline)s of open deals expected to close by %(end)s against %(remaining)s still to win: "
            "a coverage of %(coverage).1f times. Add or move deals into the period."
        ) % {
            "scope": target.scope_label,
            "pipeline": as_text(row.pipeline, target.metric.unit),
            "end": target.end.isoformat(),
            "remaining": as_text(row.remaining, target.metric.unit),
            "coverage": row.coverage,
        }
        return title, body

    key = f"pipeline-thin:{target.pk}:{target.start.isoformat()}:{target.end.isoformat()}"
    return Message(NotificationKind.PIPELINE_THIN, key, _url("home"), words)


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


def task_due(task: Activity) -> Message:
    """A task due today, to its owner; a task on a lost deal is that deal's follow-up. Once per task and due day."""
    deal = task.deal
    follow_up = deal is not None and deal.status == DealStatus.LOST
    due = timezone.localtime(task.occurred_at)
    subject = task.subject or str(task.get_kind_display())

    def words() -> tuple[str, str]:
        title = _("Due today: %(subject)s") % {"subject": subject}
        time = formats.time_format(due, "TIME_FORMAT")
        if follow_up:
            assert deal is not None
            body = _("%(deal)s was lost (%(reason)s): time to try again. The follow-up is due at %(time)s.") % {
                "deal": deal.title,
                "reason": deal.loss_reason.name if deal.loss_reason else "",
                "time": time,
            }
        elif deal is not None:
            body = _("Due at %(time)s, on the deal %(deal)s.") % {"time": time, "deal": deal.title}
        else:
            body = _("Due at %(time)s.") % {"time": time}
        return title, body

    kind = NotificationKind.FOLLOW_UP_DUE if follow_up else NotificationKind.TASK_DUE
    key = f"task-due:{task.pk}:{due.date().isoformat()}"
    return Message(kind, key, _url_of("activities:activity_detail", task.pk), words)


def deals_stale(stale: StaleDeals, *, now: dt.datetime) -> Message:
    """A person's stale deals, counted: once a week while they have some (one note, not one per deal)."""
    owner, days = stale.owner, stale_after_days()
    year, week, _weekday = timezone.localtime(now).isocalendar()

    def words() -> tuple[str, str]:
        title = ngettext("%(count)s of your deals is stale", "%(count)s of your deals are stale", stale.count) % {
            "count": stale.count
        }
        body = ngettext(
            "%(count)s open deal has had no stage change and no activity for %(days)s days or more. "
            "Move it on, log what happened, or close it.",
            "%(count)s open deals have had no stage change and no activity for %(days)s days or more. "
            "Move them on, log what happened, or close them.",
            stale.count,
        ) % {"count": stale.count, "days": days}
        return title, body

    key = f"deals-stale:{owner.pk}:{year}-W{week:02d}"
    return Message(NotificationKind.DEALS_STALE, key, _url("crm:deal_list", f"?owner={owner.pk}&flag=stale"), words)


def _url_of(name: str, pk: int) -> str:
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return ""
