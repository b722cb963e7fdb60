"""One KPI in depth: its last 13 months beside the year before, and its breakdown by person, team, source ..."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils.formats import date_format

from quota.crm.models import LeadSource
from quota.dashboards.periods import Period
from quota.dashboards.records import RecordsLink, records_link
from quota.kpi import dimensions
from quota.kpi.definitions import Unit
from quota.kpi.engine import Value, evaluate
from quota.kpi.formatting import as_text, shares
from quota.kpi.layout import GroupKey
from quota.kpi.models import Metric
from quota.kpi.periods import Every, add_months, floor
from quota.kpi.sources import get_source

TREND_MONTHS = 13
BREAKDOWNS = ("person", "team", "source", "stage", "product")


@dataclass(frozen=True)
class MonthlyTrend:
    months: list[dt.date]
    values: dict[str, list[Value]]  # per KPI key, one value per month
    last_year: dict[str, list[Value]]
    names: dict[str, str]
    computed_at: dt.datetime

    @property
    def labels(self) -> list[str]:
        return [date_format(month, "YEAR_MONTH_FORMAT") for month in self.months]

    @property
    def axis_labels(self) -> list[str]:
        """Short month names for a chart's axis ("Dec 2025"), so thirteen of them fit a narrow chart."""
        return [date_format(month, "M Y") for month in self.months]

    def rows(self, key: str, unit: Unit) -> list[tuple[str, str, str]]:
        """(month, value, value a year earlier) as text, for the table under a chart."""
        values, earlier = self.values[key], self.last_year[key]
        rows = zip(self.labels, values, earlier, strict=True)
        return [(label, as_text(value, unit), as_text(before, unit)) for label, value, before in rows]


def monthly_trend(
    kpis: list[str | Metric],
    *,
    user: Any,
    end: dt.date,
    months: int = TREND_MONTHS,
    by: str = "none",
    group: GroupKey = None,
) -> MonthlyTrend:
    """The months up to the one containing `end`, each with the same month a year earlier: one engine call.

    `by` and `group` keep one person's or one team's figures (a KPI page's scope); everything visible by default.
    """
    last = floor(end, Every.MONTH)
    first = add_months(last, -(months - 1))
    evaluation = evaluate(kpis, user=user, start=first, end=end, every="month", by=by, compare=True)
    # A group without records has no points: its months are still the months asked for.
    asked = set(_months(first, last)) if by != "none" else set()
    periods = sorted({p.period for result in evaluation for p in result.points if p.period is not None} | asked)
    values = {r.key: [_at(r, month, "value", group) for month in periods] for r in evaluation}
    last_year = {r.key: [_at(r, month, "last_year", group) for month in periods] for r in evaluation}
    return MonthlyTrend(periods, values, last_year, {r.key: r.name for r in evaluation}, evaluation.computed_at)


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    months, month = [], first
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def _at(result: Any, month: dt.date, field: str, group: GroupKey = None) -> Value:
    point = result.point(month, group)
    return getattr(point, field) if point else None


def breakdowns_for(metric: Metric) -> list[str]:
    """The groupings this KPI can be broken down by: the usual ones first, then every other dimension of its sources."""
    definition = metric.parsed
    usual = [by for by in BREAKDOWNS if not definition.grouping_problem(by)]
    if definition.groupings == ("none",):
        return usual
    others = dimensions.offered(get_source(key) for key in sorted(definition.sources()))
    allowed = set(definition.groupings) if definition.groupings is not None else None
    return usual + [by for by in others if by not in usual and (allowed is None or by in allowed)]


@dataclass(frozen=True)
class BreakdownRow:
    group: GroupKey
    label: str
    value: Value
    share: float | None  # of the total, for counts and sums
    records: RecordsLink | None


@dataclass(frozen=True)
class Breakdown:
    by: str
    rows: list[BreakdownRow]
    computed_at: dt.datetime


def breakdown(metric: Metric, *, user: Any, period: Period, by: str, today: dt.date) -> Breakdown:
    """The KPI for the period per group, largest first, each row linking to its records."""
    result = evaluate([metric], user=user, start=period.start, end=period.end, every="none", by=by, compare=False)[metric.key]
    additive = metric.parsed.measure.kind in {"count", "distinct", "sum"}
    grouped = [(point.group, point.value) for point in result.points if point.group is not None]
    # Whole percents rounded together, so the shares of the rows add up to 100 % (largest remainder).
    parts = shares([value for _group, value in grouped]) if additive else [None] * len(grouped)
    source_keys = _source_keys([group.id for group, _value in grouped]) if by == "source" else {}
    rows = [
        BreakdownRow(
            group=group.id,
            label=group.label,
            value=value,
            share=part,
            records=records_link(
                metric.parsed,
                start=period.start,
                end=period.end,
                today=today,
                by=by,
                group=group.id,
                group_value=source_keys.get(group.id),
                kpi=metric.key if metric.pk else None,
            ),
        )
        for (group, value), part in zip(grouped, parts, strict=True)
    ]
    rows.sort(key=lambda row: (row.value is None, -(row.value or 0), row.label))
    return Breakdown(by, rows, result.computed_at)


def _source_keys(ids: list[GroupKey]) -> dict[GroupKey, str]:
    return dict(LeadSource.objects.filter(pk__in=[i for i in ids if i is not None]).values_list("pk", "key"))
