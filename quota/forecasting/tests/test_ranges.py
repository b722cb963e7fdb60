"""The forecast with ranges: the draws against exact distributions, and the inputs against the deals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from quota.accounts.models import Role, Team
from quota.crm.models import Stage
from quota.forecasting.ranges import distribution, forecast_ranges, outlook
from quota.forecasting.selectors import revenue_forecast
from quota.testing.clock import clock_at
from quota.testing.factories import DealFactory, UserFactory, default_pipeline

START, END = dt.date(2026, 3, 1), dt.date(2026, 3, 31)
IN_MARCH = dt.datetime(2026, 3, 20, 12, tzinfo=dt.UTC)


def monte_carlo(amounts: np.ndarray, chances: np.ndarray, draws: int, seed: int = 7) -> np.ndarray:
    """An independent reference: the revenue of `draws` simulated periods, each deal won or not."""
    rng = np.random.default_rng(seed)
    return (rng.random((draws, len(amounts))) < chances) @ amounts


def test_equal_deals_give_exactly_the_binomial_law():
    """200 deals of 1,000 each won with chance 0.3: revenue is 1,000 x Binomial(200, 0.3), to the last digit."""
    pmf, width = distribution(np.full(200, 1000.0), np.full(200, 0.3))
    assert width * 2000 == pytest.approx(200_000)
    exact = stats.binom(200, 0.3)
    wins = np.arange(201)
    assert pmf[wins * 10] == pytest.approx(exact.pmf(wins), abs=1e-12)  # a deal is 10 grid steps
    shape = outlook(pmf, width, won=0.0, target=70_000.0)
    assert (shape.p10, shape.p50, shape.p90) == tuple(1000 * exact.ppf(q) for q in (0.1, 0.5, 0.9))
    assert shape.reach == pytest.approx(exact.sf(69), abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.tuples(st.floats(min_value=1, max_value=50_000), st.floats(min_value=0, max_value=1)), min_size=1, max_size=60)
)
def test_the_distribution_is_what_a_simulation_converges_to(deals):
    amounts = np.array([a for a, _ in deals])
    chances = np.array([q for _, q in deals])
    pmf, width = distribution(amounts, chances)
    grid = np.arange(len(pmf)) * width
    assert pmf.sum() == pytest.approx(1.0)
    # The mean is the analytic expectation, up to the rounding of each amount to the grid.
    assert (pmf * grid).sum() == pytest.approx((amounts * chances).sum(), abs=len(deals) * width)
    simulated = monte_carlo(amounts, chances, 20_000)
    shape = outlook(pmf, width, won=0.0, target=None)
    spread = max(amounts.sum() * 0.02, len(deals) * width)
    for share, exact in zip((0.1, 0.5, 0.9), (shape.p10, shape.p50, shape.p90), strict=True):
        assert abs(np.quantile(simulated, share, method="inverted_cdf") - exact) <= spread + amounts.max()


def test_certain_and_impossible_deals():
    pmf, width = distribution(np.array([100.0, 300.0, 600.0]), np.array([1.0, 0.0, 1.0]))
    shape = outlook(pmf, width, won=50.0, target=750.0)
    assert (shape.p10, shape.p50, shape.p90) == (750.0, 750.0, 750.0)
    assert shape.reach == 1.0
    assert outlook(*distribution(np.array([]), np.array([])), won=10.0, target=20.0).reach == 0.0


@pytest.fixture
def march():
    with clock_at(IN_MARCH):
        yield


def _stage(position: int) -> Stage:
    return Stage.objects.get(pipeline=default_pipeline(), position=position)


@pytest.fixture
def world(march):
    north, south = Team.objects.create(name="North"), Team.objects.create(name="South")
    rep, other = UserFactory(team=north), UserFactory(team=south)
    created = dt.datetime(2026, 2, 10, tzinfo=dt.UTC)
    DealFactory(
        owner=rep, amount=Decimal("1000"), status="won", created_at=created, closed_at=dt.datetime(2026, 3, 5, tzinfo=dt.UTC)
    )
    for _ in range(40):
        DealFactory(owner=rep, amount=Decimal("500"), stage=_stage(3), expected_close_date=END, created_at=created)
    DealFactory(
        owner=other,
        amount=Decimal("800"),
        exchange_rate=Decimal(2),
        stage=_stage(2),
        expected_close_date=START,
        created_at=created,
    )
    DealFactory(owner=rep, amount=Decimal("9000"), stage=_stage(3), expected_close_date=dt.date(2026, 4, 2), created_at=created)
    return {"rep": rep, "other": other, "north": north, "south": south}


@pytest.mark.django_db
def test_the_ranges_are_of_the_deals_the_forecast_card_counts(world):
    director = UserFactory(role=Role.DIRECTOR)
    ranges = forecast_ranges(user=director, start=START, end=END, by="person")
    card = revenue_forecast(user=director, start=START, end=END, by="person")
    rep_row = ranges.for_group(world["rep"].pk)
    assert rep_row is not None and rep_row.open_deals == 40 and rep_row.pipeline == 20_000
    chance = _stage(3).probability / 100
    assert rep_row.expected == pytest.approx(1000 + 40 * 500 * chance)
    # The mean is the card's forecast: won + the weighted pipeline.
    assert rep_row.expected == pytest.approx(card.for_group(world["rep"].pk).total)
    assert rep_row.p10 <= rep_row.p50 <= rep_row.p90
    exact = stats.binom(40, chance)
    assert abs(rep_row.p50 - (1000 + 500 * exact.median())) <= 500
    other_row = ranges.for_group(world["other"].pk)
    assert other_row is not None and other_row.pipeline == 1600  # in company currency


@pytest.mark.django_db
def test_a_target_row_says_the_chance_of_reaching_it(world):
    director = UserFactory(role=Role.DIRECTOR)
    chance = _stage(3).probability / 100
    needed = 1000 + 500 * 25  # 25 of the rep's 40 deals
    targets = {world["rep"].pk: float(needed)}
    row = forecast_ranges(user=director, start=START, end=END, by="person", targets=targets).for_group(world["rep"].pk)
    assert row is not None and row.target == needed
    assert row.reach == pytest.approx(stats.binom(40, chance).sf(24), abs=0.02)


@pytest.mark.django_db
def test_slip_lowers_every_deal_s_chance(world):
    director = UserFactory(role=Role.DIRECTOR)
    plain = forecast_ranges(user=director, start=START, end=END).rows[0]
    slipping = forecast_ranges(user=director, start=START, end=END, slip=0.5).rows[0]
    assert slipping.expected - slipping.won == pytest.approx((plain.expected - plain.won) / 2)
    with pytest.raises(ValueError):
        forecast_ranges(user=director, start=START, end=END, slip=1.0)


@pytest.mark.django_db
def test_a_rep_sees_the_ranges_of_their_own_team_only(world):
    ranges = forecast_ranges(user=world["rep"], start=START, end=END, by="team")
    assert [row.group.id for row in ranges.rows if row.group] == [world["north"].pk]
    assert ranges.rows[0].pipeline == 20_000
