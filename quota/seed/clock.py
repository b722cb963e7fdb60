"""The time axis of the generated company: two years of working days ending today.

Instants are UTC epoch seconds (int64) throughout. Working hours and seasons are local, so
the clock keeps each day's UTC offset for the configured time zone; DST changes happen at
night, outside working hours, so one offset per day is exact for the times we generate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from quota.seed.columns import SECONDS_PER_DAY

HISTORY_DAYS = 2 * 365
# History runs to noon of "today": the current day, month, quarter and year all have data,
# and the same date always gives the same data (the wall clock is never read).
HISTORY_ENDS_AT = dt.time(12, 0)
# Deals and leads start this long before the history, so its first months are not a ramp-up.
LEAD_IN_DAYS = 90
# Offsets are kept for older records (companies that were customers before the history
# starts) and for what is planned ahead (tasks, due dates, expected close dates).
PAST_MARGIN_DAYS = 6 * 365
FUTURE_MARGIN_DAYS = 400

# How busy each month is relative to the average: a summer dip and a year-end peak.
MONTH_ACTIVITY = {1: 0.92, 2: 0.98, 3: 1.06, 4: 1.02, 5: 1.0, 6: 0.95, 7: 0.74, 8: 0.68, 9: 1.04, 10: 1.1, 11: 1.14, 12: 1.22}
WEEKDAY_ACTIVITY = (1.0, 1.05, 1.05, 1.0, 0.9, 0.06, 0.03)  # Monday first
GROWTH_PER_YEAR = 0.2
# Start of each working hour (08:00 .. 17:00) and how busy it is: a lunch dip, a quiet late afternoon.
WORKING_HOURS = np.array([0.6, 1.0, 1.1, 1.05, 0.6, 0.9, 1.05, 1.0, 0.85, 0.5])
FIRST_WORKING_HOUR = 8


def epoch_day(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days


def weekday_of(days: np.ndarray) -> np.ndarray:
    """Monday = 0 for epoch day numbers (1970-01-01 was a Thursday)."""
    return (days + 3) % 7


@dataclass(frozen=True)
class Clock:
    today: dt.date
    zone_name: str
    first_day: int  # epoch day of the first day of history (local calendar)
    last_day: int  # epoch day of today
    as_of: int  # the end of history: noon today, local time, as UTC epoch seconds
    offset_base: int  # epoch day of offsets[0]
    offsets: np.ndarray  # UTC offset in seconds of each local day

    @classmethod
    def ending(cls, today: dt.date, zone_name: str) -> Clock:
        zone = ZoneInfo(zone_name)
        last_day = epoch_day(today)
        base = last_day - HISTORY_DAYS - PAST_MARGIN_DAYS
        days = [today + dt.timedelta(days=d) for d in range(base - last_day, FUTURE_MARGIN_DAYS + 1)]
        offsets = np.array(
            [int(dt.datetime.combine(d, dt.time(12), zone).utcoffset().total_seconds()) for d in days],  # type: ignore[union-attr]
            dtype=np.int64,
        )
        noon = HISTORY_ENDS_AT.hour * 3600
        as_of = last_day * SECONDS_PER_DAY + noon - int(offsets[last_day - base])
        return cls(today, zone_name, last_day - HISTORY_DAYS + 1, last_day, as_of, base, offsets)

    # -- conversions

    def at(self, days: np.ndarray | int, seconds: np.ndarray | int) -> np.ndarray:
        """UTC instants for local days (epoch day numbers) and seconds after local midnight."""
        days = np.asarray(days, dtype=np.int64)
        offset = self.offsets[(days - self.offset_base).clip(0, len(self.offsets) - 1)]
        return days * SECONDS_PER_DAY + np.asarray(seconds, dtype=np.int64) - offset

    def local_day(self, instants: np.ndarray) -> np.ndarray:
        utc_day = instants // SECONDS_PER_DAY
        offset = self.offsets[(utc_day - self.offset_base).clip(0, len(self.offsets) - 1)]
        return (instants + offset) // SECONDS_PER_DAY

    def day_start(self, day: dt.date) -> int:
        return int(self.at(epoch_day(day), 0))

    @property
    def month_start(self) -> int:
        return self.day_start(self.today.replace(day=1))

    @property
    def quarter_start(self) -> int:
        return self.day_start(self.today.replace(month=(self.today.month - 1) // 3 * 3 + 1, day=1))

    @property
    def year_start(self) -> int:
        return self.day_start(self.today.replace(month=1, day=1))

    @property
    def history_start(self) -> int:
        return int(self.at(self.first_day, 0))

    # -- sampling

    def day_weights(self, lead_in_days: int = 0) -> np.ndarray:
        """How much business happens on each day of history: season x weekday x growth."""
        days = np.arange(self.first_day - lead_in_days, self.last_day + 1)
        months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1
        season = np.array([MONTH_ACTIVITY[m] for m in range(1, 13)])[months - 1]
        weekday = np.array(WEEKDAY_ACTIVITY)[weekday_of(days)]
        growth = 1 + GROWTH_PER_YEAR * (days - days.mean()) / 365
        return season * weekday * growth

    def working_seconds(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Seconds after local midnight, within working hours, busier mid-morning and mid-afternoon."""
        hours = FIRST_WORKING_HOUR + rng.choice(len(WORKING_HOURS), size=size, p=WORKING_HOURS / WORKING_HOURS.sum())
        return hours * 3600 + rng.integers(0, 3600, size=size)

    def seasonal_instants(self, rng: np.random.Generator, size: int, lead_in_days: int = 0) -> np.ndarray:
        """`size` instants over the history, following the seasons, in working hours, never after `as_of`.

        `lead_in_days` starts them earlier: deals already under way when the history begins, so its
        first months close as much business as any other.
        """
        weights = self.day_weights(lead_in_days)
        days = self.first_day - lead_in_days + rng.choice(len(weights), size=size, p=weights / weights.sum())
        instants = self.at(days, self.working_seconds(rng, size))
        late = instants > self.as_of  # today after noon: move into this morning
        if late.any():
            morning = FIRST_WORKING_HOUR * 3600 + rng.integers(0, (HISTORY_ENDS_AT.hour - FIRST_WORKING_HOUR) * 3600, late.sum())
            instants[late] = self.at(self.last_day, morning)
        return instants

    def working_instants(self, rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """One instant in each [low, high] window, in working hours on a working day where the window allows.

        Weekend work mostly moves to the Friday before. The draw tries its own day, then the
        next and the previous one; a window with no working time in reach keeps its plain draw.
        """
        size = len(low)
        raw = low + (rng.random(size) * (high - low)).astype(np.int64)
        days = self.local_day(raw)
        seconds = self.working_seconds(rng, size)
        weekday = weekday_of(days)
        to_friday = (weekday >= 5) & (rng.random(size) < 0.92)
        chosen = raw.copy()
        pending = np.ones(size, dtype=bool)
        for day in (np.where(to_friday, days - (weekday - 4), days), days + 1, days - 1):
            candidate = self.at(day, seconds)
            fits = pending & (candidate >= low) & (candidate <= high) & (weekday_of(day) < 5)
            chosen[fits] = candidate[fits]
            pending &= ~fits
        return chosen
