"""What the forecast page shows for a period: the ranges of the company (or what the user sees) and of each team or
person, beside the revenue won so far and the won-revenue targets, and the chart of them.

Targets are those of the won revenue KPI for exactly the period shown (a team's may be the sum of its members');
a row without one has no chance of reaching it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from quota.core.calendar import local_midnight
from quota.dashboards.charts import Series, category_chart
from quota.dashboards.periods import Period
from quota.forecasting.history import Waterfall, waterfall
from quota.forecasting.probability import ProbabilityMethod, probability_method
from quota.forecasting.ranges import RangeRow, Ranges, forecast_ranges
from quota.forecasting.selectors import WON_REVENUE
from quota.forecasting.targets import target_progress
from quota.kpi.definitions import Unit
from quota.kpi.layout import GroupKey
from quota.kpi.models import Target

GROUPINGS = ("team", "person")


@dataclass(frozen=True)
class ForecastPage:
    period: Period
    by: str
    overall: RangeRow
    ranges: Ranges
    closed: bool  # the period is over: its revenue is final, nothing is forecast
    waterfall: Waterfall  # how the period's pipeline moved from its start until now (or its end)
    probability: ProbabilityMethod  # what the deals' win probabilities are
    calibration: list[dict[str, Any]]  # the model's predicted vs actual win rate by band, on the deals it was tested on

    @property
    def waterfall_chart(self) -> dict:
        """The company's (or what the user sees) steps: where the pipeline began, what came and went, where it is."""
        total = self.waterfall.total
        labels = [
            _("Start"),
            _("New"),
            _("Moved in"),
            _("Increased"),
            _("Decreased"),
            _("Won"),
            _("Lost"),
            _("Moved out"),
            _("Now"),
        ]
        values = [total.start, *total.flows.values(), total.end]
        ins = [float(v) if i in (0, 8) or v > 0 else None for i, v in enumerate(values)]
        outs = [float(v) if 0 < i < 8 and v < 0 else None for i, v in enumerate(values)]
        return category_chart(
            labels,
            [
                Series(_("Pipeline and what came in"), ins, Unit.MONEY, role="good"),
                Series(_("What went out"), outs, Unit.MONEY, role="bad"),
            ],
            stacked=True,
        )

    @property
    def calibration_chart(self) -> dict | None:
        if not self.calibration:
            return None
        return category_chart(
            [band["band"] for band in self.calibration],
            [
                Series(
                    _("Predicted win rate"),
                    [band["predicted"] for band in self.calibration],
                    Unit.PERCENT,
                    kind="line",
                    role="previous",
                ),
                Series(_("Actual win rate"), [band["actual"] for band in self.calibration], Unit.PERCENT),
            ],
        )

    @property
    def rows(self) -> list[RangeRow]:
        return self.ranges.rows

    @property
    def chart(self) -> dict:
        """The range of each row as overlaid bars (P90 behind, P10 in front), with its target as a marker."""
        rows = self.rows
        series = [
            Series(_("P90"), [r.p90 for r in rows], Unit.MONEY, role="high"),
            Series(_("P50"), [r.p50 for r in rows], Unit.MONEY, role="middle"),
            Series(_("P10"), [r.p10 for r in rows], Unit.MONEY, role="low"),
        ]
        if any(r.target is not None for r in rows):
            series.append(Series(_("Target"), [r.target for r in rows], Unit.MONEY, kind="point", role="target"))
        labels = [r.group.label if r.group else _("Everything you see") for r in rows]
        return category_chart(labels, series, horizontal=True, overlaid=True)


def forecast_page(*, user: Any, period: Period, by: str, now: dt.datetime) -> ForecastPage:
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}")
    overall = forecast_ranges(user=user, start=period.start, end=period.end, targets=_targets(user, period, "none"))
    ranges = forecast_ranges(user=user, start=period.start, end=period.end, by=by, targets=_targets(user, period, by))
    began, ends = local_midnight(period.start), local_midnight(period.end + dt.timedelta(days=1))
    moved = waterfall(
        user=user,
        start_at=began,
        end_at=max(min(now, ends), began + dt.timedelta(seconds=1)),
        period_start=period.start,
        period_end=period.end,
        by=by,
    )
    method = probability_method()
    tested = (method.model.evaluation.get("calibration") or {}).get("model", []) if method.learned and method.model else []
    return ForecastPage(
        period,
        by,
        overall.rows[0],
        ranges,
        closed=period.span.elapsed_share(now) >= 1,
        waterfall=moved,
        probability=method,
        calibration=tested,
    )


def _targets(user: Any, period: Period, by: str) -> dict[GroupKey, float]:
    """The won revenue targets of exactly this period, by the group they are set for (None: the company)."""
    scope = {"none": Q(user__isnull=True, team__isnull=True), "team": Q(team__isnull=False), "person": Q(user__isnull=False)}
    targets = Target.objects.filter(scope[by], metric__key=WON_REVENUE, start=period.start, end=period.end).select_related(
        "metric"
    )
    out: dict[GroupKey, float] = {}
    for progress in target_progress(targets, user=user):
        if progress.value is not None:
            target = progress.target
            out[target.user_id if by == "person" else target.team_id if by == "team" else None] = float(progress.value)
    return out
