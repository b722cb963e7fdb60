"""The revenue forecast against a plain-Python computation of the same deals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from quota.accounts.models import Role, Team
from quota.crm.models import Stage
from quota.forecasting.selectors import revenue_forecast
from quota.testing.clock import clock_at
from quota.testing.factories import DealFactory, UserFactory, default_pipeline

pytestmark = pytest.mark.django_db

START, END = dt.date(2026, 3, 1), dt.date(2026, 3, 31)
IN_MARCH = dt.datetime(2026, 3, 20, 12, tzinfo=dt.UTC)  # the forecast is of a period still open
AFTER_MARCH = dt.datetime(2026, 4, 15, 12, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def pinned_clock():
    with clock_at(IN_MARCH):
        yield


def stage(position: int) -> Stage:
    return Stage.objects.get(pipeline=default_pipeline(), position=position)


def open_deal(owner, amount: str, position: int, expected: dt.date | None, **fields) -> object:
    created = dt.datetime(2026, 2, 15, tzinfo=dt.UTC)
    return DealFactory(
        owner=owner, amount=Decimal(amount), stage=stage(position), expected_close_date=expected, created_at=created, **fields
    )


@pytest.fixture
def deals():
    north, south = Team.objects.create(name="North"), Team.objects.create(name="South")
    rep, other = UserFactory(team=north), UserFactory(team=south)
    march = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
    february = march - dt.timedelta(days=20)
    made = [
        # won in March: counted as won
        DealFactory(owner=rep, amount=Decimal("1000"), status="won", created_at=march - dt.timedelta(days=40), closed_at=march),
        DealFactory(
            owner=other, amount=Decimal("500"), exchange_rate=Decimal(2), status="won", created_at=february, closed_at=march
        ),
        # won in February: not counted
        DealFactory(owner=rep, amount=Decimal("9999"), status="won", created_at=february, closed_at=february),
        # open, expected in March: weighted by the stage's probability
        open_deal(rep, "2000", 3, dt.date(2026, 3, 31)),
        open_deal(other, "400", 1, START, exchange_rate=Decimal("0.5")),
        # open but expected later, or without a date: not in the forecast
        open_deal(rep, "7000", 4, dt.date(2026, 4, 1)),
        open_deal(rep, "7000", 4, None),
        # created after the period: not in its forecast, even if expected in it
        DealFactory(
            owner=rep,
            amount=Decimal("3000"),
            stage=stage(4),
            expected_close_date=END,
            created_at=dt.datetime(2026, 4, 2, tzinfo=dt.UTC),
        ),
    ]
    return {"rep": rep, "other": other, "deals": made}


def reference(deals, owner=None) -> tuple[float, float, int]:
    """Won revenue and weighted pipeline for March, computed from the deals in plain Python."""
    mine = [d for d in deals if owner is None or d.owner_id == owner.pk]
    won = sum(d.amount * d.exchange_rate for d in mine if d.status == "won" and START <= d.closed_at.date() <= END)
    created = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    expected = [
        d
        for d in mine
        if d.status == "open" and d.expected_close_date and START <= d.expected_close_date <= END and d.created_at < created
    ]
    weighted = sum(d.amount * d.exchange_rate * d.stage.probability / 100 for d in expected)
    return float(won), float(weighted), len(expected)


def test_the_forecast_is_won_plus_the_weighted_pipeline_expected_in_the_period(deals):
    result = revenue_forecast(user=None, start=START, end=END).overall
    won, weighted, count = reference(deals["deals"])
    assert (result.won, result.weighted, result.open_deals) == (pytest.approx(won), pytest.approx(weighted), count)
    assert result.total == pytest.approx(won + weighted)
    assert result.pipeline == pytest.approx(2000 + 200)


def test_the_forecast_per_person(deals):
    result = revenue_forecast(user=None, start=START, end=END, by="person")
    for person in (deals["rep"], deals["other"]):
        row = result.for_group(person.pk)
        won, weighted, count = reference(deals["deals"], person)
        assert (row.won, row.weighted, row.open_deals) == (pytest.approx(won), pytest.approx(weighted), count)
    assert result.for_group(-1).total == 0


def test_the_forecast_only_counts_deals_the_user_may_see(deals):
    rep = deals["rep"]
    rep.role = Role.REP
    result = revenue_forecast(user=rep, start=START, end=END).overall  # a rep reads their own team
    won, weighted, _count = reference(deals["deals"], rep)
    assert (result.won, result.weighted) == (pytest.approx(won), pytest.approx(weighted))


def test_no_deals_no_forecast(db):
    result = revenue_forecast(user=None, start=START, end=END, by="none").overall
    assert (result.won, result.weighted, result.total) == (0, 0, 0)
    assert revenue_forecast(user=None, start=START, end=END).computed_at <= timezone.now()


def test_a_closed_period_has_no_forecast_only_what_it_won(deals):
    with clock_at(AFTER_MARCH):
        result = revenue_forecast(user=None, start=START, end=END).overall
    won, _weighted, _count = reference(deals["deals"])
    assert result.closed
    assert result.total is None
    assert result.won == pytest.approx(won)
