"""XLSX: one sheet per part of the report, written by `quota.core.exports` as every table Quota exports is.

Sheets: "Summary" (every KPI total per period, below the report's title, scope, moment and currency), one
breakdown sheet per period when the report is broken down, and one sheet per table. Numbers stay numbers with
the exports' formats: money in whole units as the PDF shows it (the cell keeps the cents), rates as percentages,
dates as dates; text typed by users (a deal's title, a person's name) stays text, never a formula.
"""

from __future__ import annotations

import io
from typing import Any

from django.utils.translation import gettext as _

from quota.core.exports import ExportColumn, ExportTable, Kind, Typed, sheet_title, table_of_rows, write_workbook
from quota.core.money import company_currency
from quota.kpi.definitions import Unit
from quota.kpi.formatting import as_json
from quota.reports.content import ReportContent, Section, Table

UNIT_KINDS = {Unit.MONEY: Kind.WHOLE_MONEY, Unit.PERCENT: Kind.PERCENT, Unit.COUNT: Kind.INTEGER}


def unit_kind(unit: Unit | None) -> Kind:
    """How a value of the unit is shown: None is a table's text or date column."""
    return Kind.TEXT if unit is None else UNIT_KINDS.get(unit, Kind.NUMBER)


def render_xlsx(content: ReportContent) -> bytes:
    buffer = io.BytesIO()
    write_workbook(report_sheets(content), buffer)
    return buffer.getvalue()


def report_sheets(content: ReportContent) -> list[ExportTable]:
    """The report's parts as tables, in the workbook's order, each with its sheet's (unique) title."""
    titles: set[str] = set()
    sheets = [_summary(content, sheet_title(_("Summary"), taken=titles))]
    for section in content.sections:
        if section.groups:
            sheets.append(_breakdown(content, section, sheet_title(section.window.label, content.group_label, taken=titles)))
        for table in section.tables:
            sheets.append(_table(table, sheet_title(table.sheet or table.title, section.window.label, taken=titles)))
    for table in content.tables:
        sheets.append(_table(table, sheet_title(table.sheet or table.title, taken=titles)))
    return sheets


def _summary(content: ReportContent, title: str) -> ExportTable:
    columns = [
        ExportColumn(_("Period")),
        ExportColumn(_("From"), Kind.DATE),
        ExportColumn(_("To"), Kind.DATE),
        ExportColumn(_("KPI")),
        ExportColumn(_("Key")),
        ExportColumn(_("Value"), Kind.NUMBER),  # each row's value has its KPI's kind
        ExportColumn(_("Period before"), Kind.NUMBER),
        ExportColumn(_("Unit")),
    ]
    rows: list[list[Any]] = []
    for section in content.sections:
        window = section.window
        for total in section.totals:
            unit = total.kpi.unit
            kind = unit_kind(unit)
            value, previous = Typed(as_json(total.value, unit), kind), Typed(as_json(total.previous, unit), kind)
            rows.append([window.label, window.start, window.end, total.kpi.name, total.kpi.key, value, previous, unit.value])
    heading: list[list[Any]] = [
        [content.title],
        [content.scope],
        [_("As of"), content.as_of],
        [_("Currency"), company_currency()],
    ]
    return table_of_rows("summary", columns, rows, title=title, heading=heading)


def _breakdown(content: ReportContent, section: Section, title: str) -> ExportTable:
    columns = [ExportColumn(content.group_label), *(ExportColumn(kpi.name, unit_kind(kpi.unit)) for kpi in content.kpis)]
    rows = [
        [row.label, *(as_json(value, kpi.unit) for kpi, value in zip(content.kpis, row.values, strict=True))]
        for row in section.groups
    ]
    return table_of_rows(f"{section.window.key}-by-{content.group_by}", columns, rows, title=title)


def _table(table: Table, title: str) -> ExportTable:
    columns = [ExportColumn(str(column.label), unit_kind(column.unit)) for column in table.columns]
    rows = [
        [value if column.unit is None else as_json(value, column.unit) for value, column in zip(row, table.columns, strict=True)]
        for row in table.rows
    ]
    footnote = ""
    if table.truncated:
        footnote = _("The first %(shown)s of %(total)s.") % {"shown": len(table.rows), "total": table.total}
    return table_of_rows(table.key, columns, rows, title=title, footnote=footnote)
