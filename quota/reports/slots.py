"""When a report is due: the slots of a schedule, in the company's time zone (pure functions).

A slot is one moment a report should go out (weekly on Monday at 07:00 -> every Monday 07:00).
The scheduler keeps `Report.next_run_at` at the next slot; a delivery row per (report, slot)
makes each slot go out once.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _

from quota.kpi.periods import company_zone
from quota.reports.choices import LAST_DAY, Frequency, Weekday

# Every schedule has a slot within a month; a year bounds the search whatever the input.
SEARCH_DAYS = 366


@dataclass(frozen=True)
class Schedule:
    frequency: str
    at: dt.time
    weekday: int | None = None  # weekly: 0 = Monday
    day_of_month: int | None = None  # monthly: 1..28, or LAST_DAY

    def runs_on(self, day: dt.date) -> bool:
        if self.frequency == Frequency.DAILY:
            return True
        if self.frequency == Frequency.WEEKLY:
            return day.weekday() == self.weekday
        if self.day_of_month == LAST_DAY:
            return day.day == calendar.monthrange(day.year, day.month)[1]
        return day.day == self.day_of_month

    def slot_on(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, self.at, tzinfo=company_zone())

    def describe(self) -> str:
        at = self.at.strftime("%H:%M")
        if self.frequency == Frequency.DAILY:
            return _("daily at %(at)s") % {"at": at}
        if self.frequency == Frequency.WEEKLY:
            day = Weekday(self.weekday).label if self.weekday is not None else "?"
            return _("weekly on %(day)s at %(at)s") % {"day": day, "at": at}
        if self.day_of_month == LAST_DAY:
            return _("monthly on the last day at %(at)s") % {"at": at}
        return _("monthly on day %(day)s at %(at)s") % {"day": self.day_of_month, "at": at}


def next_slot_after(schedule: Schedule, moment: dt.datetime) -> dt.datetime:
    """The first slot strictly after `moment`."""
    day = moment.astimezone(company_zone()).date()
    for offset in range(SEARCH_DAYS + 1):
        candidate = day + dt.timedelta(days=offset)
        if schedule.runs_on(candidate) and schedule.slot_on(candidate) > moment:
            return schedule.slot_on(candidate)
    raise ValueError(f"The schedule {schedule} has no slot within a year")


def latest_slot_at_or_before(schedule: Schedule, moment: dt.datetime) -> dt.datetime | None:
    """The newest slot at or before `moment` (None if there was none within a year)."""
    day = moment.astimezone(company_zone()).date()
    for offset in range(SEARCH_DAYS + 1):
        candidate = day - dt.timedelta(days=offset)
        if schedule.runs_on(candidate) and schedule.slot_on(candidate) <= moment:
            return schedule.slot_on(candidate)
    return None
