"""The periods a report covers, relative to the day it is made ("last week", "month to date" ...).

"To date" periods end on the report's own day (numbers are live when it is made); "last" periods
are the last complete ones before it. Weeks start on Monday, as in the KPI engine.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from quota.kpi.periods import Every, floor, shift
from quota.reports.choices import ReportPeriod
from quota.reports.dates import day_text


@dataclass(frozen=True)
class Window:
    key: str
    label: str
    start: dt.date
    end: dt.date  # inclusive

    @property
    def span_text(self) -> str:
        return f"{day_text(self.start)} – {day_text(self.end)}"


def _last(every: Every, today: dt.date) -> tuple[dt.date, dt.date]:
    current = floor(today, every)
    return shift(current, every, -1), current - dt.timedelta(days=1)


def _to_date(every: Every, today: dt.date) -> tuple[dt.date, dt.date]:
    return floor(today, every), today


BOUNDS = {
    ReportPeriod.YESTERDAY: lambda today: (today - dt.timedelta(days=1),) * 2,
    ReportPeriod.LAST_7_DAYS: lambda today: (today - dt.timedelta(days=7), today - dt.timedelta(days=1)),
    ReportPeriod.LAST_WEEK: lambda today: _last(Every.WEEK, today),
    ReportPeriod.WEEK_TO_DATE: lambda today: _to_date(Every.WEEK, today),
    ReportPeriod.LAST_MONTH: lambda today: _last(Every.MONTH, today),
    ReportPeriod.MONTH_TO_DATE: lambda today: _to_date(Every.MONTH, today),
    ReportPeriod.LAST_QUARTER: lambda today: _last(Every.QUARTER, today),
    ReportPeriod.QUARTER_TO_DATE: lambda today: _to_date(Every.QUARTER, today),
    ReportPeriod.LAST_YEAR: lambda today: _last(Every.YEAR, today),
    ReportPeriod.YEAR_TO_DATE: lambda today: _to_date(Every.YEAR, today),
}


def window(key: str, today: dt.date) -> Window:
    period = ReportPeriod(key)
    start, end = BOUNDS[period](today)
    return Window(key=period.value, label=str(period.label), start=start, end=end)
