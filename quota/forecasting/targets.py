"""Progress against many targets at once: actual, attainment, pace, status and the one forecast (kpi.targets).

It lives with the forecast, above the KPI engine: won revenue's forecast adds the weighted pipeline expected
to close: the mean of the forecast's ranges (forecasting.ranges.forecast_ranges), which also give the chance of
reaching each target.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.db.models import F, Sum
from django.utils import timezone

from quota.forecasting.ranges import RangeRow, forecast_ranges
from quota.forecasting.selectors import PIPELINE_FORECASTS
from quota.kpi.engine import evaluate_spans
from quota.kpi.layout import GroupKey
from quota.kpi.models import Target, TeamTarget
from quota.kpi.periods import Span, inclusive
from quota.kpi.targets import Progress, kpi_progress

SCOPE_GROUPING = {"person": "person", "team": "team", "company": "none"}


@dataclass(frozen=True)
class TargetProgress:
    target: Target
    value: Decimal | None  # the target's value; for a members' sum, the sum (None if no member has one)
    progress: Progress | None  # None when a members' sum has nothing to sum
    computed_at: dt.datetime
    # For won revenue in a period under way: the forecast's ranges and chance of reaching it (forecasting.ranges).
    outlook: RangeRow | None = None

    @property
    def reach(self) -> float | None:
        return self.outlook.reach if self.outlook else None


def target_progress(
    targets: Iterable[Target], *, user: Any, now: dt.datetime | None = None, using: str = DEFAULT_DB_ALIAS
) -> list[TargetProgress]:
    """Actual, attainment, pace, status and forecast for each target, as `user` may see the records.

    Queries do not grow with the number of targets, people or periods: one evaluation per scope
    (person, team, company) covers every KPI version and period among the targets, plus one query
    for team targets that are the sum of their members' targets.
    """
    targets = list(targets)
    now = now or timezone.now()
    member_sums = _member_sums([t for t in targets if t.team_target == TeamTarget.MEMBERS], using)
    by_scope: dict[str, list[Target]] = defaultdict(list)
    for target in targets:
        by_scope[target.scope].append(target)

    out: dict[int, TargetProgress] = {}
    for scope, items in by_scope.items():
        metrics = list({t.metric_id: t.metric for t in items}.values())
        spans = sorted({_span(t) for t in items}, key=lambda s: (s.start, s.end))
        wanted = {t.user_id if scope == "person" else t.team_id for t in items}
        values = evaluate_spans(metrics, spans, user=user, by=SCOPE_GROUPING[scope], groups=wanted, using=using)
        goals = {t.pk: member_sums.get(t.pk) if t.team_target == TeamTarget.MEMBERS else t.value for t in items}
        outlooks = _outlooks(items, goals, values, user=user, scope=scope, now=now, using=using)
        for target in items:
            goal = goals[target.pk]
            group = _group(target)
            forecast = target.metric.key in PIPELINE_FORECASTS
            state, outlook = None, outlooks.get(_span(target), {}).get(group) if forecast else None
            if goal is not None:
                state = kpi_progress(
                    target.metric.parsed,
                    actual=values.value(target.metric, _span(target), group),
                    target=goal,
                    elapsed=_span(target).elapsed_share(now),
                    expected=None if outlook is None else outlook.expected - outlook.won,
                )
            out[target.pk] = TargetProgress(target, goal, state, values.computed_at, outlook)
    return [out[t.pk] for t in targets]


def _outlooks(
    targets: list[Target],
    goals: dict[int, Decimal | None],
    values: Any,
    *,
    user: Any,
    scope: str,
    now: dt.datetime,
    using: str,
) -> dict[Span, dict[GroupKey, RangeRow]]:
    """The forecast's ranges per group for each period under way of the targets whose forecast adds the pipeline
    (won revenue): what the pipeline is expected to bring, and the chance of reaching each target. One read of the
    ranges per such period (usually one: this month), none when no target needs it.
    """
    forecast = [t for t in targets if t.metric.key in PIPELINE_FORECASTS and _span(t).elapsed_share(now) < 1]
    out: dict[Span, dict[GroupKey, RangeRow]] = {}
    for span in {_span(t) for t in forecast}:
        here = [t for t in forecast if _span(t) == span]
        won = {_group(t): float(values.value(t.metric, span, _group(t)) or 0) for t in here}
        aims = {_group(t): float(goal) for t in here if (goal := goals[t.pk]) is not None}
        ranges = forecast_ranges(
            user=user,
            start=span.start,
            end=span.end - dt.timedelta(days=1),
            by=SCOPE_GROUPING[scope],
            targets=aims,
            won=won,
            using=using,
        )
        out[span] = ranges.by_group()
    return out


def _group(target: Target) -> GroupKey:
    return target.user_id if target.user_id else target.team_id


def _span(target: Target) -> Span:
    return inclusive(target.start, target.end)


def _member_sums(targets: list[Target], using: str) -> dict[int, Decimal]:
    """The sum of the members' own targets for the same KPI version and period, per team target (one query)."""
    if not targets:
        return {}
    rows = (
        Target.objects.using(using)
        .filter(
            metric_id__in={t.metric_id for t in targets},
            user__team_id__in={t.team_id for t in targets},
            start__in={t.start for t in targets},
            end__in={t.end for t in targets},
        )
        .values("metric_id", "start", "end", members_team=F("user__team_id"))
        .annotate(total=Sum("value"))
        .order_by()
    )
    totals = {(r["metric_id"], r["members_team"], r["start"], r["end"]): r["total"] for r in rows}
    return {
        t.pk: totals[(t.metric_id, t.team_id, t.start, t.end)]
        for t in targets
        if (t.metric_id, t.team_id, t.start, t.end) in totals
    }
