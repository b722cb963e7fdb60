"""Schedule slots: next and latest slot for daily, weekly and monthly schedules, in the company time zone."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from quota.reports.choices import LAST_DAY, Frequency
from quota.reports.slots import Schedule, latest_slot_at_or_before, next_slot_after

UTC = dt.UTC
SEVEN = dt.time(7, 0)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "moment", "expected"),
    [
        (Schedule(Frequency.DAILY, SEVEN), "2025-03-12 06:59", "2025-03-12 07:00"),
        (Schedule(Frequency.DAILY, SEVEN), "2025-03-12 07:00", "2025-03-13 07:00"),  # strictly after
        (Schedule(Frequency.WEEKLY, SEVEN, weekday=0), "2025-03-12 10:00", "2025-03-17 07:00"),  # Wednesday -> Monday
        (Schedule(Frequency.WEEKLY, SEVEN, weekday=2), "2025-03-12 06:00", "2025-03-12 07:00"),
        (Schedule(Frequency.MONTHLY, SEVEN, day_of_month=15), "2025-03-12 10:00", "2025-03-15 07:00"),
        (Schedule(Frequency.MONTHLY, SEVEN, day_of_month=1), "2025-12-05 10:00", "2026-01-01 07:00"),
        (Schedule(Frequency.MONTHLY, SEVEN, day_of_month=LAST_DAY), "2025-02-03 10:00", "2025-02-28 07:00"),
        (Schedule(Frequency.MONTHLY, SEVEN, day_of_month=LAST_DAY), "2024-02-03 10:00", "2024-02-29 07:00"),  # leap year
        (Schedule(Frequency.MONTHLY, SEVEN, day_of_month=LAST_DAY), "2025-02-28 08:00", "2025-03-31 07:00"),
    ],
)
def test_next_slot_after(schedule, moment, expected):
    assert next_slot_after(schedule, utc(moment)) == utc(expected)


def test_latest_slot_at_or_before_is_the_newest_missed_one():
    weekly = Schedule(Frequency.WEEKLY, SEVEN, weekday=0)
    assert latest_slot_at_or_before(weekly, utc("2025-03-17 07:00")) == utc("2025-03-17 07:00")  # inclusive
    assert latest_slot_at_or_before(weekly, utc("2025-03-30 12:00")) == utc("2025-03-24 07:00")  # two slots missed: the latest


def test_slots_follow_the_company_time_zone_across_daylight_saving(settings):
    settings.TIME_ZONE = "Europe/Warsaw"
    warsaw = ZoneInfo("Europe/Warsaw")
    daily = Schedule(Frequency.DAILY, SEVEN)
    before = next_slot_after(daily, dt.datetime(2025, 3, 28, 12, tzinfo=warsaw))
    after = next_slot_after(daily, before)
    assert before.astimezone(UTC) == utc("2025-03-29 06:00")  # 07:00 CET
    assert after.astimezone(UTC) == utc("2025-03-30 05:00")  # 07:00 CEST: still seven o'clock locally


def test_describe_says_when_in_words():
    assert Schedule(Frequency.WEEKLY, SEVEN, weekday=0).describe() == "weekly on Monday at 07:00"
    assert Schedule(Frequency.MONTHLY, SEVEN, day_of_month=LAST_DAY).describe() == "monthly on the last day at 07:00"
