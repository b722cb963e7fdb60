"""CSV: the report's KPI values in long form, one row per period, group and KPI (what spreadsheets and BI tools read).

Totals have an empty group. Values are plain numbers: money in the company currency rounded to
cents, rates as fractions (0.25 is 25 %). The tables are in the PDF and the XLSX. Written by
`quota.core.exports`, as every CSV Quota exports is (a byte-order mark, names that look like formulas guarded).
"""

from __future__ import annotations

from typing import Any

from quota.core.exports import ExportColumn, ExportTable, Kind, csv_chunks, table_of_rows
from quota.kpi.formatting import as_json
from quota.reports.content import ReportContent

# Machine names, the same in every language: BI tools read these columns by name.
COLUMNS = [
    ExportColumn("period"),
    ExportColumn("from", Kind.DATE),
    ExportColumn("to", Kind.DATE),
    ExportColumn("group"),
    ExportColumn("kpi"),
    ExportColumn("name"),
    ExportColumn("unit"),
    ExportColumn("value", Kind.NUMBER),
    ExportColumn("previous", Kind.NUMBER),
]


def render_csv(content: ReportContent) -> bytes:
    return "".join(csv_chunks(kpi_values(content))).encode("utf-8")


def kpi_values(content: ReportContent) -> ExportTable:
    rows: list[list[Any]] = []
    for section in content.sections:
        window = section.window
        dates = [window.key, window.start, window.end]
        for total in section.totals:
            unit = total.kpi.unit
            rows.append(
                [*dates, "", total.kpi.key, total.kpi.name, unit.value, as_json(total.value, unit), as_json(total.previous, unit)]
            )
        for row in section.groups:
            for kpi, value in zip(content.kpis, row.values, strict=True):
                rows.append([*dates, row.label, kpi.key, kpi.name, kpi.unit.value, as_json(value, kpi.unit), None])
    return table_of_rows(content.name, COLUMNS, rows)
