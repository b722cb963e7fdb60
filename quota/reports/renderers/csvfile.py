"""CSV: the report's KPI values in long form, one row per period, group and KPI (what spreadsheets and BI tools read).

Totals have an empty group. Values are plain numbers: money in the company currency rounded to
cents, rates as fractions (0.25 is 25 %). The tables are in the PDF and the XLSX.
"""

from __future__ import annotations

import csv
import io

from quota.core.exports import safe_text
from quota.kpi.formatting import as_json
from quota.reports.content import ReportContent

HEADER = ["period", "from", "to", "group", "kpi", "name", "unit", "value", "previous"]


def render_csv(content: ReportContent) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for section in content.sections:
        window = section.window
        dates = [window.key, window.start.isoformat(), window.end.isoformat()]
        for total in section.totals:
            unit = total.kpi.unit
            writer.writerow(
                [
                    *dates,
                    "",
                    total.kpi.key,
                    safe_text(total.kpi.name),
                    unit.value,
                    _number(as_json(total.value, unit)),
                    _number(as_json(total.previous, unit)),
                ]
            )
        for row in section.groups:
            for kpi, value in zip(content.kpis, row.values, strict=True):
                number = _number(as_json(value, kpi.unit))
                writer.writerow([*dates, safe_text(row.label), kpi.key, safe_text(kpi.name), kpi.unit.value, number, ""])
    # A byte-order mark so that Excel opens the UTF-8 names correctly.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _number(value: int | float | None) -> str:
    return "" if value is None else repr(value) if isinstance(value, float) else str(value)
