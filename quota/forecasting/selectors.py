"""Revenue forecast for a period: what is already won plus the open pipeline expected to close in it.

    forecast = won revenue (deals won in the period, by close date)
             + weighted pipeline (each open deal expected to close in the period: amount x its win probability
               x (1 - the last period's slip): the mean of forecasting.ranges.forecast_ranges)

The sum itself is `kpi.targets.forecast`, the one forecast definition, so the forecast card, a won revenue
target's row and the mean of the forecast's ranges say the same number; a closed period has no forecast.

Here the won revenue, and the open pipeline by stage probability (the funnel's "weighted" KPIs), go through the
KPI engine, as `user` may see the records, in one call; the card replaces that weighted part by the ranges'
(dashboards.boards), and the targets (forecasting.targets) and the targets grid read the ranges directly. Open
deals without an expected close date, or expected outside the period, are not in the forecast.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from quota.kpi.definitions import Unit
from quota.kpi.engine import Evaluation, Group, KpiResult, evaluate
from quota.kpi.layout import GroupKey
from quota.kpi.models import Metric
from quota.kpi.periods import inclusive
from quota.kpi.targets import forecast

WON_REVENUE = "won_revenue"
EXPECTED_WEIGHTED = "expected_weighted_pipeline"
EXPECTED_AMOUNT = "expected_pipeline"
EXPECTED_DEALS = "expected_deals"

METHOD = gettext_lazy(
    "Forecast = revenue won so far in the period + the weighted pipeline: for every deal open now whose expected "
    "close date falls in the period (and created by its end), its amount times its win probability (learned from "
    "the company's closed deals once a model is trained, else its stage's) times one minus the share of value that "
    "slipped out of the period before. Open deals without an expected close date, or expected outside the period, "
    "are left out. Amounts are in the company currency."
)


def expected_close_metrics(start: dt.date, end: dt.date) -> list[Metric]:
    """KPIs of the deals open now whose expected close date is from `start` to `end` (not saved: no catalogue entry).

    They are placed by creation date, counting everything created by the period's end, with the expected
    close date as a filter: the same way the open pipeline is read, so the engine computes both in one query
    when they are evaluated together (see the sales dashboard's funnel).
    """
    expected = {
        "source": "deals",
        "date": "created_at",
        "filters": [
            {"field": "status", "op": "eq", "value": "open"},
            {"field": "expected_close_date", "op": "gte", "value": start.isoformat()},
            {"field": "expected_close_date", "op": "lte", "value": end.isoformat()},
        ],
    }
    measures = [
        (EXPECTED_WEIGHTED, _("Weighted pipeline expected to close"), {"kind": "sum", "field": "weighted_amount"}, "money"),
        (EXPECTED_AMOUNT, _("Pipeline expected to close"), {"kind": "sum", "field": "amount"}, "money"),
        (EXPECTED_DEALS, _("Open deals expected to close"), {"kind": "count"}, "count"),
    ]
    return [
        Metric(
            key=key,
            name=name,
            definition={**expected, "measure": {**measure, "cumulative": True}, "unit": unit, "better": "higher"},
        )
        for key, name, measure, unit in measures
    ]


@dataclass(frozen=True)
class Forecast:
    """The forecast of one group (a person, a team) or of everything the user sees (group None)."""

    group: Group | None
    won: float
    weighted: float
    pipeline: float  # unweighted amount of the same open deals
    open_deals: int
    elapsed: float  # share of the period gone, 0..1

    @property
    def total(self) -> float | None:
        """Won + weighted pipeline by the one forecast definition; None once the period is closed."""
        return forecast(actual=self.won, elapsed=self.elapsed, cumulative=True, expected=self.weighted, unit=Unit.MONEY)

    @property
    def closed(self) -> bool:
        return self.elapsed >= 1


@dataclass(frozen=True)
class ForecastResult:
    start: dt.date
    end: dt.date
    rows: list[Forecast]
    computed_at: dt.datetime
    elapsed: float

    def for_group(self, group: GroupKey) -> Forecast:
        """The row of one group; zeros when it has neither won deals nor expected ones."""
        for row in self.rows:
            if (row.group.id if row.group else None) == group:
                return row
        return Forecast(None, 0.0, 0.0, 0.0, 0, self.elapsed)

    @property
    def overall(self) -> Forecast:
        """Everything the user sees: the one row of `by="none"`, or the sum of the groups' rows."""
        if len(self.rows) == 1 and self.rows[0].group is None:
            return self.rows[0]
        return Forecast(
            None,
            sum(r.won for r in self.rows),
            sum(r.weighted for r in self.rows),
            sum(r.pipeline for r in self.rows),
            sum(r.open_deals for r in self.rows),
            self.elapsed,
        )


def forecast_kpis(start: dt.date, end: dt.date) -> list[str | Metric]:
    """What a forecast evaluates: for `evaluate(...)` calls that compute more beside it (then `forecast_from`)."""
    return [*expected_close_metrics(start, end), WON_REVENUE]


def revenue_forecast(
    *, user: Any, start: dt.date, end: dt.date, by: str = "none", using: str = DEFAULT_DB_ALIAS
) -> ForecastResult:
    """The forecast for start..end (inclusive), in total (`by="none"`) or per person, team or stage."""
    evaluation = evaluate(
        forecast_kpis(start, end), user=user, start=start, end=end, every="none", by=by, compare=False, using=using
    )
    return forecast_from(evaluation)


def forecast_from(evaluation: Evaluation) -> ForecastResult:
    """The forecast rows of an evaluation of `forecast_kpis` (with or without other KPIs beside them)."""
    keys = [EXPECTED_WEIGHTED, EXPECTED_AMOUNT, EXPECTED_DEALS, WON_REVENUE]
    values = {key: _by_group(evaluation[key]) for key in keys}
    elapsed = inclusive(evaluation.start, evaluation.end).elapsed_share(evaluation.computed_at)
    groups = _groups(evaluation[key] for key in keys)
    rows = [
        Forecast(
            group=group,
            won=values[WON_REVENUE].get(key, 0.0),
            weighted=values[EXPECTED_WEIGHTED].get(key, 0.0),
            pipeline=values[EXPECTED_AMOUNT].get(key, 0.0),
            open_deals=int(values[EXPECTED_DEALS].get(key, 0)),
            elapsed=elapsed,
        )
        for key, group in groups.items()
    ]
    rows.sort(key=lambda row: -(row.won + row.weighted))
    return ForecastResult(evaluation.start, evaluation.end, rows, evaluation.computed_at, elapsed)


# KPIs whose rest of the period is known as a pipeline: their forecast adds the weighted pipeline (see kpi.targets).
PIPELINE_FORECASTS = frozenset({WON_REVENUE})


def _by_group(result: KpiResult) -> dict[GroupKey, float]:
    return {(p.group.id if p.group else None): float(p.value or 0) for p in result.points}


def _groups(results: Iterable[KpiResult]) -> dict[GroupKey, Group | None]:
    """Every group any of the results has a row for (a person may have won deals but nothing open, or the reverse)."""
    groups: dict[GroupKey, Group | None] = {}
    for result in results:
        for point in result.points:
            groups.setdefault(point.group.id if point.group else None, point.group)
    return groups
