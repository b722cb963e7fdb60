"""Report periods relative to the day a report is made."""

import datetime as dt

import pytest

from quota.reports.periods import window

WEDNESDAY = dt.date(2025, 3, 12)


@pytest.mark.parametrize(
    ("key", "start", "end"),
    [
        ("yesterday", "2025-03-11", "2025-03-11"),
        ("last_7_days", "2025-03-05", "2025-03-11"),
        ("last_week", "2025-03-03", "2025-03-09"),
        ("week_to_date", "2025-03-10", "2025-03-12"),
        ("last_month", "2025-02-01", "2025-02-28"),
        ("month_to_date", "2025-03-01", "2025-03-12"),
        ("last_quarter", "2024-10-01", "2024-12-31"),
        ("quarter_to_date", "2025-01-01", "2025-03-12"),
        ("last_year", "2024-01-01", "2024-12-31"),
        ("year_to_date", "2025-01-01", "2025-03-12"),
    ],
)
def test_windows(key, start, end):
    found = window(key, WEDNESDAY)
    assert (found.start, found.end) == (dt.date.fromisoformat(start), dt.date.fromisoformat(end))


def test_last_week_on_a_monday_is_the_complete_week_before():
    found = window("last_week", dt.date(2025, 3, 17))
    assert (found.start, found.end) == (dt.date(2025, 3, 10), dt.date(2025, 3, 16))
