"""How the demo company's targets are planned: rounding as people write targets, months weighed by expected business,
and the trailing run rate. The targets themselves are checked through the KPI engine in test_demo."""

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from quota.seed.targets import Planner, month_starts, month_weights, rounded, rounded_rate


@pytest.mark.parametrize(
    ("value", "direction", "expected"),
    [
        (83_412, "nearest", 83_000),
        (1_234_567, "nearest", 1_200_000),
        (143.2, "nearest", 140),
        (36.4, "nearest", 36),
        (8.4, "nearest", 8),
        (0.3, "nearest", 1),
        (0, "up", 1),
        (16_667, "up", 17_000),
        (16_667, "down", 16_000),
        (5.2, "up", 6),
    ],
)
def test_targets_are_rounded_to_two_significant_digits(value, direction, expected):
    assert rounded(value, direction=direction) == Decimal(expected)


def test_rates_are_rounded_to_whole_percents():
    assert rounded_rate(0.3849) == Decimal("0.38")


def test_months_weigh_their_season_working_days_and_growth():
    months = month_starts(dt.date(2024, 1, 1), dt.date(2025, 12, 1))
    assert len(months) == 24 and months[-1] == dt.date(2025, 12, 1)
    weights = dict(zip(months, month_weights(months, dt.date(2025, 6, 15)), strict=True))
    year = [weights[dt.date(2025, m, 1)] for m in range(1, 13)]
    assert max(year) == weights[dt.date(2025, 12, 1)] and min(year) == weights[dt.date(2025, 8, 1)]
    assert weights[dt.date(2025, 2, 1)] < weights[dt.date(2025, 3, 1)]  # fewer working days, a quieter month
    assert weights[dt.date(2025, 5, 1)] > weights[dt.date(2024, 5, 1)]  # the business grows


def test_the_plan_is_the_trailing_run_rate_per_unit_of_expected_business():
    weights = np.array([1.0, 2.0, 1.0, 2.0, 1.5, 1.0, 3.0])
    planner = Planner(weights, current=5)  # months 0..4 are history, 5 is this month, 6 lies ahead
    series = np.array([10.0, 20.0, 10.0, 20.0, 15.0, 2.0])  # 10 per unit of business, this month just begun
    assert planner.expected(series)[1:] == pytest.approx(weights[1:] * 10)
    assert planner.expected(series)[0] == 0  # no history before the first month
    assert planner.window(6) == planner.window(5) == slice(0, 5)  # ahead: the 12 months before this one
    won, lost = np.array([1, 2, 3, 4, 5, 9]), np.array([3, 2, 1, 4, 5, 0])
    assert planner.rate(won, lost, 5) == Decimal("0.5")
    assert planner.rate(won, lost, 0) is None
