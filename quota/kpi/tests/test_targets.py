"""Pace, status, attainment and forecast: pure functions, higher- and lower-is-better, cumulative and level KPIs."""

import pytest

from quota.kpi.catalogue import CATALOGUE
from quota.kpi.definitions import Better, Unit, parse
from quota.kpi.targets import Status, attainment, forecast, kpi_progress, pace, progress, status

HIGHER, LOWER = Better.HIGHER, Better.LOWER


def test_linear_run_rate_forecast_for_cumulative_kpis():
    assert forecast(actual=40, elapsed=0.5, cumulative=True) == 80
    assert forecast(actual=0.3, elapsed=0.5, cumulative=False) == 0.3  # a rate is its own forecast
    assert forecast(actual=40, elapsed=0.0, cumulative=True) is None
    assert forecast(actual=None, elapsed=0.5, cumulative=True) is None


def test_a_closed_period_has_no_forecast():
    assert forecast(actual=40, elapsed=1.0, cumulative=True) is None
    assert forecast(actual=0.3, elapsed=1.0, cumulative=False) is None
    assert forecast(actual=1000, elapsed=1.0, cumulative=True, expected=500) is None


def test_a_pipeline_forecast_adds_the_expected_rest_of_the_period_to_the_actual():
    assert forecast(actual=1000, elapsed=0.5, cumulative=True, expected=250) == 1250  # not the run rate, 2000
    assert forecast(actual=None, elapsed=0.5, cumulative=True, expected=250) == 250
    assert forecast(actual=0, elapsed=0.0, cumulative=True, expected=250) == 250  # known before the period starts


def test_a_count_is_forecast_as_a_whole_number():
    calls = forecast(actual=59, elapsed=1 / 3, cumulative=True, unit=Unit.COUNT)
    assert calls == 177 and isinstance(calls, int)  # shown as 177, never 177.0
    assert forecast(actual=10, elapsed=0.3, cumulative=True, unit=Unit.COUNT) == 33  # 33.33
    assert forecast(actual=10, elapsed=0.3, cumulative=True, unit=Unit.MONEY) == pytest.approx(33.333333)


def test_a_closed_period_shows_final_attainment_and_status_without_pace_or_forecast():
    result = progress(actual=90, target=100, elapsed=1.0, better=HIGHER, cumulative=True)
    assert (result.attainment, result.pace, result.forecast, result.status) == (pytest.approx(0.9), None, None, Status.MISSED)


def test_pace_is_share_of_target_over_share_of_period():
    assert pace(actual=40, target=100, elapsed=0.5, cumulative=True) == pytest.approx(0.8)
    assert pace(actual=60, target=100, elapsed=0.5, cumulative=True) == pytest.approx(1.2)
    assert pace(actual=0.3, target=0.25, elapsed=0.5, cumulative=False) is None
    assert pace(actual=5, target=0, elapsed=0.5, cumulative=True) is None


def test_attainment_is_inverted_for_lower_is_better():
    assert attainment(actual=80, target=100, better=HIGHER) == pytest.approx(0.8)
    assert attainment(actual=40, target=30, better=LOWER) == pytest.approx(0.75)  # 40 days against a 30-day ceiling
    assert attainment(actual=0, target=30, better=LOWER) is None
    assert attainment(actual=None, target=30, better=HIGHER) is None


@pytest.mark.parametrize(
    ("actual", "target", "elapsed", "better", "cumulative", "expected"),
    [
        # higher is better, cumulative (calls, revenue)
        (10, 100, 0.0, HIGHER, True, Status.NOT_STARTED),
        (60, 100, 0.5, HIGHER, True, Status.AHEAD),  # forecast 120
        (50, 100, 0.5, HIGHER, True, Status.ON_TRACK),  # forecast 100
        (48, 100, 0.5, HIGHER, True, Status.ON_TRACK),  # forecast 96: within 5 %
        (40, 100, 0.5, HIGHER, True, Status.BEHIND),  # forecast 80
        (100, 100, 0.5, HIGHER, True, Status.MET),  # reached early
        (99, 100, 1.0, HIGHER, True, Status.MISSED),
        (100, 100, 1.0, HIGHER, True, Status.MET),
        # lower is better, cumulative (lost deals): the target is a ceiling
        (20, 100, 0.5, LOWER, True, Status.AHEAD),  # forecast 40
        (50, 100, 0.5, LOWER, True, Status.ON_TRACK),  # forecast 100
        (60, 100, 0.5, LOWER, True, Status.BEHIND),  # forecast 120
        (101, 100, 0.5, LOWER, True, Status.MISSED),  # already past the ceiling
        (100, 100, 1.0, LOWER, True, Status.MET),
        # level KPIs (rates, averages): the current value is compared
        (0.30, 0.25, 0.5, HIGHER, False, Status.AHEAD),
        (0.24, 0.25, 0.5, HIGHER, False, Status.ON_TRACK),
        (0.20, 0.25, 0.5, HIGHER, False, Status.BEHIND),
        (0.30, 0.25, 0.5, HIGHER, False, Status.AHEAD),
        (40.0, 30.0, 0.5, LOWER, False, Status.BEHIND),  # sales cycle of 40 days against 30
        (25.0, 30.0, 0.5, LOWER, False, Status.AHEAD),
        (29.0, 30.0, 1.0, LOWER, False, Status.MET),
        (31.0, 30.0, 1.0, LOWER, False, Status.MISSED),
        # NPS targets can be 0 or negative
        (-5.0, 0.0, 0.5, HIGHER, False, Status.BEHIND),
        (5.0, 0.0, 0.5, HIGHER, False, Status.AHEAD),
        (-8.0, -10.0, 0.5, HIGHER, False, Status.AHEAD),
        # nothing to measure yet (a rate over no records)
        (None, 0.25, 0.5, HIGHER, False, None),
    ],
)
def test_status(actual, target, elapsed, better, cumulative, expected):
    assert status(actual=actual, target=target, elapsed=elapsed, better=better, cumulative=cumulative) == expected


def test_progress_puts_it_together():
    result = progress(actual=40, target=100, elapsed=0.25, better=HIGHER, cumulative=True)
    assert result.attainment == pytest.approx(0.4)
    assert result.pace == pytest.approx(1.6)
    assert result.forecast == pytest.approx(160)
    assert result.status == Status.AHEAD


@pytest.mark.parametrize("key", ["won_deals", "sales_cycle_days", "win_rate"])
def test_a_kpis_progress_takes_its_direction_unit_and_adding_up_from_its_definition(key):
    definition = parse(next(entry.definition for entry in CATALOGUE if entry.key == key))
    mine = kpi_progress(definition, actual=7, target=10, elapsed=0.5, expected=2.5)
    assert mine == progress(
        actual=7,
        target=10,
        elapsed=0.5,
        better=definition.better,
        cumulative=definition.is_cumulative,
        expected=2.5,
        unit=definition.unit,
    )
    # The three differ where it shows: a count adds up, a cycle's days are better lower, a rate is its own forecast.
    assert (definition.is_cumulative, definition.better, definition.unit) == {
        "won_deals": (True, HIGHER, Unit.COUNT),
        "sales_cycle_days": (False, LOWER, Unit.DAYS),
        "win_rate": (False, HIGHER, Unit.PERCENT),
    }[key]
