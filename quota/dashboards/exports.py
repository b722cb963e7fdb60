"""The KPI page's tables and the targets grid as exports (CSV/XLSX through `quota.core.exports`).

The numbers are the engine's, as `kpi.formatting.as_json` gives them to the API and the reports:
money in the company currency rounded to cents (the currency is in the header), rates as
fractions (XLSX shows them as percentages), counts as integers.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from quota.core.exports import ExportColumn, ExportTable, Kind, table_of_rows
from quota.core.money import company_currency
from quota.dashboards.selectors.kpi import Breakdown, MonthlyTrend
from quota.dashboards.target_grid import TargetGrid
from quota.kpi.definitions import Unit
from quota.kpi.formatting import as_json
from quota.kpi.models import Metric

UNIT_KINDS = {Unit.MONEY: Kind.MONEY, Unit.PERCENT: Kind.PERCENT, Unit.COUNT: Kind.INTEGER}


def value_column(label: str, unit: Unit) -> ExportColumn:
    """A column of KPI values: money says its currency in the header."""
    if unit == Unit.MONEY:
        label = f"{label} ({company_currency()})"
    return ExportColumn(label, UNIT_KINDS.get(unit, Kind.NUMBER))


def trend_table(metric: Metric, trend: MonthlyTrend) -> ExportTable:
    """The 13 months beside the same months a year earlier, one row per month."""
    unit = metric.unit
    columns = [
        ExportColumn(_("Month"), Kind.DATE),
        value_column(metric.display_name, unit),
        value_column(_("A year earlier"), unit),
    ]
    values, earlier = trend.values[metric.key], trend.last_year[metric.key]
    rows = [
        [month, as_json(value, unit), as_json(before, unit)]
        for month, value, before in zip(trend.months, values, earlier, strict=True)
    ]
    return table_of_rows(f"{metric.key}-monthly", columns, rows, title=metric.display_name)


def breakdown_table(metric: Metric, split: Breakdown, *, by_label: str) -> ExportTable:
    """The KPI for the page's period per group, largest first, with each group's share of the total."""
    unit = metric.unit
    columns = [ExportColumn(by_label), value_column(metric.display_name, unit), ExportColumn(_("Share"), Kind.PERCENT)]
    rows = [[row.label, as_json(row.value, unit), row.share] for row in split.rows]
    return table_of_rows(f"{metric.key}-by-{split.by}", columns, rows, title=f"{metric.display_name} – {by_label}")


def target_grid_table(grid: TargetGrid) -> ExportTable:
    """One row per team or person; per KPI its target, actual so far and attainment (rates as fractions)."""
    columns = [ExportColumn(_("Team / person"))]
    for column in grid.columns:
        name, unit = column.metric.display_name, column.metric.unit
        columns += [
            value_column(_("%(kpi)s: target") % {"kpi": name}, unit),
            value_column(_("%(kpi)s: actual") % {"kpi": name}, unit),
            ExportColumn(_("%(kpi)s: attainment") % {"kpi": name}, Kind.PERCENT),
        ]
    rows = []
    for cells in grid.cells:
        row: list[Any] = [cells[0].row.label if cells else ""]
        for cell in cells:
            unit = cell.column.metric.unit
            target = cell.target.value if cell.target is not None else None
            row += [
                as_json(target, unit),
                as_json(cell.actual, unit),
                cell.progress.attainment if cell.progress else None,
            ]
        rows.append(row)
    if not grid.cells:
        rows = [[row.label] for row in grid.rows]
    return table_of_rows(f"targets-{grid.period}-{grid.start.isoformat()}", columns, rows, title=_("Targets"))
