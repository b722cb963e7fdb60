"""A seller's own board: the deals they expect to close, their targets with pace, and their team's activity race."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from quota.accounts.models import User
from quota.crm.choices import DealStatus
from quota.crm.models import Deal
from quota.crm.selectors import overdue_deals, with_hygiene_flags
from quota.dashboards.periods import Period
from quota.forecasting.targets import TargetProgress, target_progress
from quota.kpi.definitions import Unit
from quota.kpi.engine import Value, evaluate_spans
from quota.kpi.formatting import as_text
from quota.kpi.models import Metric, Target
from quota.kpi.periods import inclusive
from quota.kpi.targets import Progress, kpi_progress

CLOSING_DEALS_SHOWN = 20
ACTIVITY_KPIS = ["calls_made", "meetings_held", "emails_sent"]


def closing_deals(*, user: Any, period: Period, now: dt.datetime | None = None) -> QuerySet[Deal]:
    """The user's own open deals expected to close in the period, soonest first (records, not a KPI: a table of links),
    each flagged overdue or stale (crm.selectors) as of `now`."""
    deals = (
        Deal.objects.visible_to(user)
        .filter(owner=user, status=DealStatus.OPEN, expected_close_date__gte=period.start, expected_close_date__lte=period.end)
        .select_related("company", "stage")
        .order_by("expected_close_date", "-amount", "pk")
    )
    return with_hygiene_flags(deals, now=now)[:CLOSING_DEALS_SHOWN]


def my_overdue_deal_count(*, user: Any, now: dt.datetime | None = None) -> int:
    """How many of the user's own open deals are overdue, whatever period their expected close date is in."""
    return overdue_deals(Deal.objects.visible_to(user).filter(owner=user), now=now).count()


def my_targets(*, user: Any, period: Period, now: dt.datetime) -> list[TargetProgress]:
    """The user's own targets for periods overlapping this one, with actual, attainment, pace and forecast."""
    targets = (
        Target.objects.filter(user=user, start__lte=period.end, end__gte=period.start)
        .select_related("metric")
        .order_by("start", "metric__key")
    )
    return target_progress(targets, user=user, now=now)


@dataclass(frozen=True)
class ActivityCell:
    value: Value
    target: float | None
    progress: Progress | None
    unit: Unit

    @property
    def text(self) -> str:
        return as_text(self.value, self.unit)

    @property
    def target_text(self) -> str:
        return as_text(self.target, self.unit) if self.target is not None else ""


@dataclass(frozen=True)
class ActivityRow:
    person: User
    cells: list[ActivityCell]
    is_me: bool

    @property
    def score(self) -> float:
        """The mean attainment of the targets the person has (0 without targets): what the race is ordered by."""
        reached = [c.progress.attainment for c in self.cells if c.progress and c.progress.attainment is not None]
        return sum(reached) / len(reached) if reached else 0.0


@dataclass(frozen=True)
class ActivityRace:
    columns: list[Metric]
    rows: list[ActivityRow]
    computed_at: dt.datetime | None


def activity_race(*, user: Any, period: Period, now: dt.datetime) -> ActivityRace:
    """Calls, meetings and e-mails of everyone in the user's team against their targets for the period."""
    members = list(User.objects.filter(team_id=user.team_id, is_active=True)) if user.team_id else [user]
    metrics = sorted(Metric.objects.current().filter(key__in=ACTIVITY_KPIS), key=lambda m: ACTIVITY_KPIS.index(m.key))
    if not metrics:
        return ActivityRace([], [], None)
    span = inclusive(period.start, period.end)
    values = evaluate_spans(metrics, [span], user=user, by="person", groups=[m.pk for m in members])
    targets = {
        (t.metric_id, t.user_id): t
        for t in Target.objects.filter(metric__in=metrics, user__in=members, start=period.start, end=period.end)
    }
    elapsed = span.elapsed_share(now)
    rows = []
    for person in members:
        cells = []
        for metric in metrics:
            value = values.value(metric, span, person.pk)
            target = targets.get((metric.pk, person.pk))
            state = None
            if target is not None and target.value is not None:
                state = kpi_progress(metric.parsed, actual=value, target=target.value, elapsed=elapsed)
            cells.append(
                ActivityCell(value, float(target.value) if target and target.value is not None else None, state, metric.unit)
            )
        rows.append(ActivityRow(person, cells, person.pk == user.pk))
    rows.sort(key=lambda row: (-row.score, -sum(float(c.value or 0) for c in row.cells), str(row.person)))
    return ActivityRace(metrics, rows, values.computed_at)
