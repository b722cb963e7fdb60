"""Periods: how a date range is cut into days, weeks, months, quarters or years, in the company time zone.

Periods are whole: a range that starts mid-month starts with the whole month. Weeks start on
Monday. "The same period last year" is the period one year earlier (52 weeks for weeks, so it
is again a Monday).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from django.utils.translation import gettext_lazy as _

from quota.core.calendar import company_zone, local_midnight  # noqa: F401  (re-exported: KPI code reads them here)


class Every(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    NONE = "none"

    @property
    def label(self) -> str:
        return str(EVERY_LABELS[self])


EVERY_LABELS = {
    Every.DAY: _("day"),
    Every.WEEK: _("week"),
    Every.MONTH: _("month"),
    Every.QUARTER: _("quarter"),
    Every.YEAR: _("year"),
    Every.NONE: _("whole range"),
}
MONTHS_IN = {Every.MONTH: 1, Every.QUARTER: 3, Every.YEAR: 12}


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clipped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    next_month = dt.date(year + (month == 12), month % 12 + 1, 1)
    return dt.date(year, month, min(day.day, (next_month - dt.timedelta(days=1)).day))


def floor(day: dt.date, every: Every) -> dt.date:
    """The first day of the period `day` falls in."""
    if every == Every.DAY or every == Every.NONE:
        return day
    if every == Every.WEEK:
        return day - dt.timedelta(days=day.weekday())
    months = MONTHS_IN[every]
    return dt.date(day.year, (day.month - 1) // months * months + 1, 1)


@lru_cache(maxsize=4096)
def shift(start: dt.date, every: Every, periods: int) -> dt.date:
    """The start of the period `periods` after (or before, if negative) the one starting at `start`."""
    if every == Every.DAY:
        return start + dt.timedelta(days=periods)
    if every == Every.WEEK:
        return start + dt.timedelta(weeks=periods)
    if every == Every.NONE:
        raise ValueError("A whole-range period has no fixed length; use Span.")
    return add_months(start, MONTHS_IN[every] * periods)


@lru_cache(maxsize=4096)
def year_before(start: dt.date, every: Every) -> dt.date:
    if every == Every.WEEK:
        return start - dt.timedelta(weeks=52)
    return add_months(start, -12)


def starts(first: dt.date, last: dt.date, every: Every) -> list[dt.date]:
    """The starts of the whole periods covering `first`..`last` (inclusive)."""
    current, end = floor(first, every), floor(last, every)
    out = []
    while current <= end:
        out.append(current)
        current = shift(current, every, 1)
    return out


@dataclass(frozen=True)
class Span:
    """A date range in the company calendar: `start` inclusive, `end` exclusive."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def before(self) -> Span:
        """The window of the same length just before this one."""
        return Span(self.start - dt.timedelta(days=self.days), self.start)

    def year_before(self) -> Span:
        return Span(add_months(self.start, -12), add_months(self.end, -12))

    def elapsed_share(self, now: dt.datetime) -> float:
        """How much of the window has passed at `now` (0 before it starts, 1 after it ends)."""
        begin, finish = local_midnight(self.start), local_midnight(self.end)
        if now <= begin:
            return 0.0
        if now >= finish:
            return 1.0
        return (now - begin) / (finish - begin)


def inclusive(start: dt.date, end: dt.date) -> Span:
    """The window from `start` to `end`, both days included."""
    return Span(start, end + dt.timedelta(days=1))
