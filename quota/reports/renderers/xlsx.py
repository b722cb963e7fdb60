"""XLSX through openpyxl: numbers stay numbers (with a number format), one sheet per part of the report.

Sheets: "Summary" (every KPI total per period), one breakdown sheet per period when the report is
broken down, and one sheet per table.
"""

from __future__ import annotations

import io
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from quota.core.exports import safe_text, sheet_title
from quota.core.money import company_currency
from quota.kpi.definitions import Unit
from quota.kpi.formatting import as_json
from quota.reports.content import ReportContent, Table

# As the PDF and the pages show them (money in whole units: kpi.formatting); the cells keep the exact value.
NUMBER_FORMATS = {
    Unit.MONEY: "#,##0",
    Unit.PERCENT: "0.0%",
    Unit.COUNT: "#,##0",
}
DEFAULT_NUMBER_FORMAT = "#,##0.0"
BOLD = Font(bold=True)


def render_xlsx(content: ReportContent) -> bytes:
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = sheet_title(_("Summary"))
    _summary(summary, content)
    titles = {summary.title}
    for section in content.sections:
        if section.groups:
            sheet = book.create_sheet(sheet_title(section.window.label, content.group_label, taken=titles))
            _header(sheet, [content.group_label, *(kpi.name for kpi in content.kpis)])
            for row in section.groups:
                values = (as_json(value, kpi.unit) for kpi, value in zip(content.kpis, row.values, strict=True))
                sheet.append([safe_text(row.label), *values])
                for column, kpi in enumerate(content.kpis, start=2):
                    _number_format(sheet.cell(sheet.max_row, column), kpi.unit)
        for table in section.tables:
            _table(book.create_sheet(sheet_title(table.sheet or table.title, section.window.label, taken=titles)), table)
    for table in content.tables:
        _table(book.create_sheet(sheet_title(table.sheet or table.title, taken=titles)), table)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _summary(sheet: Worksheet, content: ReportContent) -> None:
    sheet.append([content.title])
    sheet.cell(1, 1).font = Font(bold=True, size=14)
    sheet.append([content.scope])
    sheet.append([_("As of"), timezone.localtime(content.as_of).replace(tzinfo=None)])  # Excel has no time zones
    sheet.append([_("Currency"), company_currency()])
    sheet.append([])
    _header(sheet, [_("Period"), _("From"), _("To"), _("KPI"), _("Key"), _("Value"), _("Period before"), _("Unit")])
    for section in content.sections:
        window = section.window
        for total in section.totals:
            unit = total.kpi.unit
            sheet.append(
                [
                    window.label,
                    window.start,
                    window.end,
                    safe_text(total.kpi.name),  # a builder KPI's name is typed by users
                    total.kpi.key,
                    as_json(total.value, unit),
                    as_json(total.previous, unit),
                    unit.value,
                ]
            )
            _number_format(sheet.cell(sheet.max_row, 6), unit)
            _number_format(sheet.cell(sheet.max_row, 7), unit)
            sheet.cell(sheet.max_row, 2).number_format = "yyyy-mm-dd"
            sheet.cell(sheet.max_row, 3).number_format = "yyyy-mm-dd"
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["D"].width = 32


def _table(sheet: Worksheet, table: Table) -> None:
    _header(sheet, [str(column.label) for column in table.columns])
    for row in table.rows:
        sheet.append([_cell(value, column.unit) for value, column in zip(row, table.columns, strict=True)])
        for index, column in enumerate(table.columns, start=1):
            if column.unit is not None:
                _number_format(sheet.cell(sheet.max_row, index), column.unit)
    if table.truncated:
        sheet.append([_("The first %(shown)s of %(total)s.") % {"shown": len(table.rows), "total": table.total}])
    sheet.column_dimensions["A"].width = 32


def _cell(value: Any, unit: Unit | None) -> Any:
    if unit is not None:
        return as_json(value, unit)
    return safe_text(value) if isinstance(value, str) else value  # a deal titled "=..." is text, never a formula


def _header(sheet: Worksheet, labels: list[Any]) -> None:
    sheet.append([safe_text(str(label)) for label in labels])
    for cell in sheet[sheet.max_row]:
        cell.font = BOLD


def _number_format(cell: Any, unit: Unit) -> None:
    cell.number_format = NUMBER_FORMATS.get(unit, DEFAULT_NUMBER_FORMAT)
