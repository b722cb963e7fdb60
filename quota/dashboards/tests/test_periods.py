"""Reading the period picker's parameters, and what a trend compares with."""

from __future__ import annotations

import datetime as dt

from quota.dashboards.periods import period_from
from quota.kpi.periods import Span

TODAY = dt.date(2026, 11, 24)


def test_named_periods():
    cases = {
        "this_month": (dt.date(2026, 11, 1), dt.date(2026, 11, 30)),
        "this_quarter": (dt.date(2026, 10, 1), dt.date(2026, 12, 31)),
        "this_year": (dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
        "last_month": (dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
        "last_quarter": (dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
        "last_year": (dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
    }
    for key, bounds in cases.items():
        period, _form = period_from({"period": key}, TODAY)
        assert (period.start, period.end) == bounds, key
        assert period.params == {"period": key}


def test_a_running_period_is_compared_with_the_same_days_of_the_previous_one():
    period, _form = period_from({}, TODAY)
    assert period.to_date(TODAY) == Span(dt.date(2026, 11, 1), dt.date(2026, 11, 25))
    assert period.previous_to_date(TODAY) == Span(dt.date(2026, 10, 1), dt.date(2026, 10, 25))
    march, _form = period_from({"period": "this_month"}, dt.date(2026, 3, 31))
    assert march.previous_to_date(dt.date(2026, 3, 31)) == Span(dt.date(2026, 2, 1), dt.date(2026, 3, 1))  # all of February


def test_a_past_period_is_compared_whole():
    period, _form = period_from({"period": "last_quarter"}, TODAY)
    assert period.to_date(TODAY) == Span(dt.date(2026, 7, 1), dt.date(2026, 10, 1))
    assert period.previous_to_date(TODAY) == Span(dt.date(2026, 4, 1), dt.date(2026, 7, 1))


def test_a_custom_range_is_compared_with_as_many_days_before_it():
    period, form = period_from({"period": "custom", "start": "2026-01-10", "end": "2026-01-19"}, TODAY)
    assert form.is_valid() and period.every == "none"
    assert period.previous_to_date(TODAY) == Span(dt.date(2025, 12, 31), dt.date(2026, 1, 10))
    assert period.params == {"period": "custom", "start": "2026-01-10", "end": "2026-01-19"}


def test_invalid_parameters_fall_back_to_this_month_with_the_reason():
    invalid = [
        {"period": "custom", "start": "2026-02-01"},
        {"period": "custom", "start": "2026-02-01", "end": "2020-01-01"},
        {"period": "x"},
    ]
    for params in invalid:
        period, form = period_from(params, TODAY)
        assert period.key == "this_month" and form.errors, params
    period, form = period_from({"period": "custom", "start": "2020-01-01", "end": "2026-01-01"}, TODAY)
    assert "at most three years" in str(form.errors)


def test_custom_ranges_at_the_ends_of_the_calendar_are_refused_with_the_reason():
    for start, end in [("0001-01-01", "0001-01-05"), ("9999-12-25", "9999-12-31"), ("1899-12-01", "1900-01-05")]:
        period, form = period_from({"period": "custom", "start": start, "end": end}, TODAY)
        assert period.key == "this_month" and "Choose a date between" in str(form.errors), (start, end)
    period, form = period_from({"period": "custom", "start": "2999-12-01", "end": "2999-12-31"}, TODAY)
    assert form.is_valid()
    assert period.previous_to_date(dt.date(2999, 12, 31)) == Span(dt.date(2999, 10, 31), dt.date(2999, 12, 1))
