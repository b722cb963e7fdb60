"""Progress against many targets at once: actual, attainment, pace, status and the one forecast (kpi.targets).

It lives with the forecast, above the KPI engine: won revenue's forecast adds the weighted pipeline expected
to close (forecasting.ranges.expected_pipeline).
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

from quota.forecasting.ranges import expected_pipeline
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
        pipelines = _pipelines(items, user=user, by=SCOPE_GROUPING[scope], now=now, using=using)
        for target in items:
            goal = member_sums.get(target.pk) if target.team_target == TeamTarget.MEMBERS else target.value
            group = target.user_id if scope == "person" else target.team_id
            state = None
            if goal is not None:
                pipeline = pipelines.get(_span(target)) if target.metric.key in PIPELINE_FORECASTS else None
                state = kpi_progress(
                    target.metric.parsed,
                    actual=values.value(target.metric, _span(target), group),
                    target=goal,
                    elapsed=_span(target).elapsed_share(now),
                    expected=None if pipeline is None else pipeline.get(group, 0.0),
                )
            out[target.pk] = TargetProgress(target, goal, state, values.computed_at)
    return [out[t.pk] for t in targets]


def _pipelines(targets: list[Target], *, user: Any, by: str, now: dt.datetime, using: str) -> dict[Span, dict[GroupKey, float]]:
    """The weighted pipeline per group for each open period of the targets whose forecast adds one (won revenue).

    One evaluation per such period (usually one: this month), none when no target needs it.
    """
    spans = {_span(t) for t in targets if t.metric.key in PIPELINE_FORECASTS and _span(t).elapsed_share(now) < 1}
    return {
        span: expected_pipeline(user=user, start=span.start, end=span.end - dt.timedelta(days=1), by=by, using=using)
        for span in spans
    }


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
