"""The forecast with ranges: the draws against exact distributions, and the inputs against the deals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
import time_machine
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from quota.accounts.models import Role, Team
from quota.crm.models import Stage
from quota.forecasting.ranges import (
    EXACT_UP_TO,
    cumulants_of,
    distribution,
    exact_outlook,
    expansion_outlook,
    forecast_ranges,
    outlook,
)
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
    steps = round(1000 / width)  # a deal is a whole number of grid steps
    assert width * steps == pytest.approx(1000)
    exact = stats.binom(200, 0.3)
    wins = np.arange(201)
    assert pmf[wins * steps] == pytest.approx(exact.pmf(wins), abs=1e-12)
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


@settings(max_examples=10, deadline=None)
@given(st.integers(min_value=0, max_value=2**31), st.integers(min_value=EXACT_UP_TO + 1, max_value=1_500))
def test_many_deals_expansion_agrees_with_the_exact_distribution(seed, count):
    """Beyond EXACT_UP_TO deals the cumulant expansion is used: it must say what the exact law says."""
    rng = np.random.default_rng(seed)
    amounts = np.round(rng.lognormal(8, 0.9, count), 2)  # skewed, as deal sizes are
    chances = rng.choice([0.1, 0.25, 0.5, 0.75, 0.9], count)
    moments = cumulants_of(amounts, chances)
    assume(moments.near_normal)  # otherwise the exact law is used
    exact = exact_outlook(amounts, chances, won=1000.0, target=None)
    approx = expansion_outlook(moments, won=1000.0, target=None)
    sd = np.sqrt((amounts**2 * chances * (1 - chances)).sum())
    for a, b in ((exact.p10, approx.p10), (exact.p50, approx.p50), (exact.p90, approx.p90)):
        assert abs(a - b) <= 0.1 * sd + amounts.sum() / 2_000
    target = float(exact.p50 + sd)
    chance = exact_outlook(amounts, chances, won=1000.0, target=target).reach
    assert expansion_outlook(cumulants_of(amounts, chances), won=1000.0, target=target).reach == pytest.approx(chance, abs=0.03)


def test_rounding_to_the_grid_keeps_the_mean():
    amounts, chances = np.array([1.0, 1000.0, 333.3, 12.7]), np.array([0.9, 0.5, 0.3, 0.6])
    pmf, width = distribution(amounts, chances)
    shifted = exact_outlook(amounts, chances, won=0.0, target=None)
    grid_mean = float((pmf * np.arange(len(pmf)) * width).sum())
    assert shifted.p50 - outlook(pmf, width, won=0.0, target=None).p50 == pytest.approx((amounts * chances).sum() - grid_mean)


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
def test_large_groups_sum_their_cumulants_in_the_database(world, monkeypatch):
    monkeypatch.setattr("quota.forecasting.ranges.EXACT_UP_TO", 5)  # the rep's 40 equal deals take the expansion
    director = UserFactory(role=Role.DIRECTOR)
    row = forecast_ranges(user=director, start=START, end=END, by="person").for_group(world["rep"].pk)
    chance = _stage(3).probability / 100
    expected = expansion_outlook(cumulants_of(np.full(40, 500.0), np.full(40, chance)), won=1000.0, target=None)
    assert row is not None and (row.p10, row.p50, row.p90) == pytest.approx((expected.p10, expected.p50, expected.p90))


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


@pytest.mark.django_db
def test_the_slip_of_the_period_before_lowers_the_chances(march):
    """A deal worth a quarter of February's pipeline moved to April: March's deals are won with 75 % of their chance."""
    from quota.crm.services import deal_create, deal_update
    from quota.forecasting.ranges import past_slip

    rep, director = UserFactory(), UserFactory(role=Role.DIRECTOR)
    with time_machine.travel(dt.datetime(2026, 1, 20, tzinfo=dt.UTC), tick=False):
        stays = [
            deal_create(by=None, title=f"Stays {i}", owner=rep, amount=Decimal("1000"), expected_close_date=dt.date(2026, 2, 20))
            for i in range(3)
        ]
        moved = deal_create(by=None, title="Moved", owner=rep, amount=Decimal("1000"), expected_close_date=dt.date(2026, 2, 25))
    with time_machine.travel(dt.datetime(2026, 2, 10, tzinfo=dt.UTC), tick=False):
        deal_update(deal=moved, by=None, data={"expected_close_date": dt.date(2026, 4, 10)})
    assert stays and past_slip(user=director, start=START, end=END) == pytest.approx(0.25)
    for _ in range(4):
        DealFactory(
            owner=rep,
            amount=Decimal("500"),
            stage=_stage(3),
            expected_close_date=END,
            created_at=dt.datetime(2026, 2, 10, tzinfo=dt.UTC),
        )
    row = forecast_ranges(user=director, start=START, end=END, by="person").for_group(rep.pk)
    chance = _stage(3).probability / 100
    assert row is not None and row.expected == pytest.approx(4 * 500 * chance * 0.75)
    assert forecast_ranges(user=director, start=START, end=END, by="person", slip=0.0).for_group(
        rep.pk
    ).expected == pytest.approx(4 * 500 * chance)


def _cumulant_queries(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "SUM(a * q)" in q["sql"]]


@pytest.fixture
def kept(settings):
    """The KPI cache on (as with Redis in production), empty before and after."""
    from django.core.cache import cache

    settings.KPI_CACHE_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
def test_asked_again_the_cumulants_are_kept_until_a_deal_changes(world, kept, django_capture_on_commit_callbacks):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from quota.crm.models import Deal
    from quota.crm.services import deal_update

    director = UserFactory(role=Role.DIRECTOR)
    first = forecast_ranges(user=director, start=START, end=END, slip=0.0)
    with CaptureQueriesContext(connection) as captured:
        again = forecast_ranges(user=director, start=START, end=END, slip=0.0)
    assert again == first and not _cumulant_queries(captured)
    deal = Deal.objects.filter(owner=world["rep"], expected_close_date=END).first()
    with django_capture_on_commit_callbacks(execute=True):
        deal_update(deal=deal, by=None, data={"amount": Decimal("4500")})  # 4,000 more in the pipeline
    with CaptureQueriesContext(connection) as captured:
        changed = forecast_ranges(user=director, start=START, end=END, slip=0.0)
    assert _cumulant_queries(captured)
    assert changed.rows[0].pipeline == first.rows[0].pipeline + 4000


@pytest.mark.django_db
def test_kept_cumulants_are_never_another_person_s(world, kept):
    director = UserFactory(role=Role.DIRECTOR)
    everyone = forecast_ranges(user=director, start=START, end=END, slip=0.0).rows[0]
    own = forecast_ranges(user=world["rep"], start=START, end=END, slip=0.0).rows[0]
    other = forecast_ranges(user=world["other"], start=START, end=END, slip=0.0).rows[0]
    assert (everyone.pipeline, own.pipeline, other.pipeline) == (21_600, 20_000, 1_600)


@pytest.mark.django_db
def test_new_scores_show_in_the_kept_forecast_at_once(world, kept, django_capture_on_commit_callbacks):
    """Scores are written by hand-written SQL on PostgreSQL (bulk_create elsewhere): either way the write is seen."""
    from quota.crm.models import Deal
    from quota.forecasting.models import WinModel
    from quota.forecasting.services import _save_scores

    director = UserFactory(role=Role.DIRECTOR)
    before = forecast_ranges(user=director, start=START, end=END, slip=0.0).rows[0]
    model = WinModel.objects.create(version=1, method="learned", closed_deals=0)
    deals = list(Deal.objects.filter(owner=world["rep"], expected_close_date=END).values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        _save_scores(deals, [1.0] * len(deals), ["[]"] * len(deals), model, IN_MARCH, "default")
    after = forecast_ranges(user=director, start=START, end=END, slip=0.0).rows[0]
    # The rep's 40 deals of 500 are now certain: the expected revenue gains what their stage's chance left out.
    assert after.expected - before.expected == pytest.approx(40 * 500 * (1 - _stage(3).probability / 100))
