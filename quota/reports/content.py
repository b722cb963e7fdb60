"""What a report says, computed once and rendered to every format: KPI values from the engine and table rows.

Numbers come only from `kpi.engine.evaluate`, with the report's scope person as the user, so a
report shows exactly what that person may see. Totals are evaluated on their own (a rate's total
is not the sum of the people's rates); the breakdown is a second, grouped evaluation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from quota.kpi.definitions import Unit
from quota.kpi.engine import KpiResult, current_versions, evaluate, reading_once
from quota.kpi.formatting import as_text, cell_text
from quota.kpi.periods import Every, company_zone
from quota.kpi.plans import Number
from quota.reports import conf
from quota.reports.charts import Bar, bar_chart
from quota.reports.choices import Grouping
from quota.reports.dates import moment_text
from quota.reports.periods import Window, window
from quota.reports.tables import TABLES, Column, TableRows

Progress = Callable[[int, str], None]
ADDING_UP = {"count", "distinct", "sum"}
CENT = Decimal("0.01")
PORTRAIT_COLUMNS = 7  # more columns than this and an A4 page is turned


def shown(value: Any, unit: Unit | None) -> Any:
    """The value every format shows: money as a Decimal rounded half up to the cent, once, here.

    The PDF's text and the XLSX's numbers are both made from this, so they cannot differ by a cent
    (a float rounded in one and a Decimal cut in the other used to).
    """
    if unit != Unit.MONEY or value is None or isinstance(value, str):
        return value
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def no_progress(percent: int, step: str) -> None:
    """For renders nobody watches (the command line, tests)."""


@dataclass(frozen=True)
class KpiInfo:
    key: str
    name: str
    unit: Unit

    def text(self, value: Number | None) -> str:
        return as_text(value, self.unit)


@dataclass(frozen=True)
class Total:
    kpi: KpiInfo
    value: Number | None
    previous: Number | None  # the same number of days just before

    @property
    def value_text(self) -> str:
        return self.kpi.text(self.value)

    @property
    def previous_text(self) -> str:
        return self.kpi.text(self.previous)


@dataclass(frozen=True)
class GroupRow:
    label: str
    values: list[Number | None]  # in the order of ReportContent.kpis


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: tuple[Column, ...]
    rows: list[list[Any]]
    total: int
    sheet: str = ""  # the short name of its XLSX sheet

    @property
    def truncated(self) -> bool:
        return self.total > len(self.rows)

    @property
    def number_columns(self) -> set[int]:
        return {index for index, column in enumerate(self.columns) if column.unit is not None}

    @property
    def text_rows(self) -> list[list[str]]:
        return [[cell_text(value, column.unit) for value, column in zip(row, self.columns, strict=True)] for row in self.rows]


@dataclass(frozen=True)
class Chart:
    title: str
    svg: SafeString


@dataclass(frozen=True)
class Section:
    """One period of the report: totals, the breakdown, charts and the period's tables."""

    window: Window
    totals: list[Total]
    groups: list[GroupRow]
    charts: list[Chart]
    tables: list[Table] = field(default_factory=list)

    @property
    def group_text_rows(self) -> list[tuple[str, list[str]]]:
        kpis = [total.kpi for total in self.totals]
        return [(row.label, [kpi.text(value) for kpi, value in zip(kpis, row.values, strict=True)]) for row in self.groups]


@dataclass(frozen=True)
class ReportContent:
    name: str
    title: str
    scope: str
    group_by: str
    group_label: str
    as_of: dt.datetime
    generated_at: dt.datetime
    kpis: list[KpiInfo]
    sections: list[Section]
    tables: list[Table]  # those that do not depend on a period (the open pipeline)

    @property
    def as_of_text(self) -> str:
        return moment_text(self.as_of)

    @property
    def landscape(self) -> bool:
        """A breakdown with many KPIs, or a wide table, is printed across the page."""
        widest = max((len(t.columns) for t in [*self.tables, *(t for s in self.sections for t in s.tables)]), default=0)
        return len(self.kpis) + 1 > PORTRAIT_COLUMNS or widest > PORTRAIT_COLUMNS


def build_content(report: Any, *, as_of: dt.datetime, progress: Progress = no_progress) -> ReportContent:
    """Evaluate the report's KPIs and read its tables for each of its periods, as its scope person sees them.

    Every period and grouping reads the same KPI versions and rollups, looked up once (`reading_once`): a KPI
    changed while a report is made does not show in some of its sections and not in others.
    """
    with reading_once():
        return _build_content(report, as_of=as_of, progress=progress)


def _build_content(report: Any, *, as_of: dt.datetime, progress: Progress) -> ReportContent:
    person = report.scope_person
    today = timezone.localtime(as_of, company_zone()).date()
    windows = [window(key, today) for key in report.periods]
    limit = conf.table_rows()
    kpis: list[KpiInfo] = []
    sections = []
    zero_when_empty = _adding_up(report.kpis)
    for index, period in enumerate(windows):
        progress(10 + 40 * index // len(windows), _("Evaluating KPIs for %(period)s") % {"period": period.label})
        totals, groups, charts = _kpi_values(report, person, period, zero_when_empty)
        kpis = kpis or [total.kpi for total in totals]
        tables = [_table(key, person, period, limit) for key in report.tables if TABLES[key].per_period]
        sections.append(Section(period, totals, groups, charts, tables))
    progress(55, _("Reading tables"))
    tables = [_table(key, person, None, limit) for key in report.tables if not TABLES[key].per_period]
    return ReportContent(
        name=report.name,
        title=report.title,
        scope=_scope_text(person),
        group_by=report.group_by,
        group_label=str(Grouping(report.group_by).label),
        as_of=as_of,
        generated_at=timezone.now(),
        kpis=kpis,
        sections=sections,
        tables=tables,
    )


def _scope_text(person: Any) -> str:
    team = f", {person.team}" if person.team_id else ""
    return _("As %(person)s sees it (%(role)s%(team)s)") % {"person": person, "role": person.get_role_display(), "team": team}


def _adding_up(keys: list[str]) -> set[str]:
    """KPIs that are counts or sums: a person with no records has 0 of them (a rate or average has no value)."""
    return {key for key, metric in current_versions(keys).items() if metric.parsed.measure.kind in ADDING_UP}


def _kpi_values(
    report: Any, person: Any, period: Window, zero_when_empty: set[str]
) -> tuple[list[Total], list[GroupRow], list[Chart]]:
    if not report.kpis:
        return [], [], []
    evaluation = evaluate(report.kpis, user=person, start=period.start, end=period.end, every=Every.NONE, by="none")
    results = [evaluation[key] for key in report.kpis]
    totals = []
    for result in results:
        point = result.point(None, None)
        info = KpiInfo(result.key, result.name, result.unit)
        value, previous = (point.value, point.previous) if point else (None, None)
        totals.append(Total(info, shown(value, info.unit), shown(previous, info.unit)))
    if report.group_by == Grouping.NONE:
        return totals, [], [_comparison_chart(total, period) for total in totals]
    grouped = evaluate(
        report.kpis, user=person, start=period.start, end=period.end, every=Every.NONE, by=report.group_by, compare=False
    )
    groups = _group_rows([grouped[key] for key in report.kpis], zero_when_empty)
    charts = [_breakdown_chart(total.kpi, groups, column, period) for column, total in enumerate(totals)]
    return totals, groups, charts


def _group_rows(results: list[KpiResult], zero_when_empty: set[str]) -> list[GroupRow]:
    """One row per person (or team) with a value for each KPI; unassigned records last.

    The engine lists, for each KPI, the groups that have its records; a person may appear for one
    KPI (open deals) and not another (no deal won): that is 0 for a count or sum.
    """
    labels: dict[Any, str] = {}
    values: dict[Any, dict[str, Number | None]] = {}
    for result in results:
        for point in result.points:
            if point.group is None:
                continue
            labels[point.group.id] = point.group.label
            values.setdefault(point.group.id, {})[result.key] = point.value
    order = sorted(labels, key=lambda group: (group is None, labels[group].casefold()))

    def value(group: Any, key: str) -> Number | None:
        return values[group].get(key, 0 if key in zero_when_empty else None)

    return [GroupRow(labels[group], [shown(value(group, r.key), r.unit) for r in results]) for group in order]


def _breakdown_chart(kpi: KpiInfo, groups: list[GroupRow], column: int, period: Window) -> Chart:
    title = f"{kpi.name} – {period.label}"
    bars = [Bar(row.label, float(value)) for row in groups if (value := row.values[column]) is not None]
    return Chart(title, bar_chart(bars, title=title, text=kpi.text))


def _comparison_chart(total: Total, period: Window) -> Chart:
    title = f"{total.kpi.name} – {period.label}"
    bars = [Bar(str(period.label), float(total.value))] if total.value is not None else []
    if total.previous is not None:
        bars.append(Bar(_("Period before"), float(total.previous)))
    return Chart(title, bar_chart(bars, title=title, text=total.kpi.text, largest_first=False))


def _table(key: str, person: Any, period: Window | None, limit: int) -> Table:
    spec = TABLES[key]
    found: TableRows = spec.read(person, period, limit)
    rows = [[shown(value, column.unit) for value, column in zip(row, spec.columns, strict=True)] for row in found.rows]
    return Table(key, str(spec.title), spec.columns, rows, found.total, sheet=str(spec.sheet))
