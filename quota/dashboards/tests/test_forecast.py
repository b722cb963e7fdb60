"""One forecast: the forecast card and the "My targets" row say the same number; a closed period shows actuals only."""

from __future__ import annotations

import datetime as dt

import pytest

from quota.dashboards.tests.conftest import last_month_moment, month_start, open_deal, this_month_moment, won_deal
from quota.kpi.models import Metric, Target, TargetPeriod
from quota.kpi.targets import Status
from quota.testing.factories import CallFactory

pytestmark = pytest.mark.django_db


def month_end(start: dt.date) -> dt.date:
    return (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


def target(key: str, user, start: dt.date, end: dt.date, value: int, period: str = TargetPeriod.MONTH) -> Target:
    metric = Metric.objects.get(key=key, is_current=True)
    return Target.objects.create(metric=metric, user=user, start=start, end=end, period=period, value=value)


def row(response, key: str):
    return next(item for item in response.context["targets"] if item.target.metric.key == key)


def test_the_forecast_card_and_the_target_row_say_the_same_forecast(client, world):
    start = month_start().date()
    won_deal(world.rep, "3000.00", this_month_moment())
    open_deal(world.rep, "2000.00", stage_position=3, expected=month_end(start))  # 50 %: 1000 weighted
    open_deal(world.rep, "8000.00", stage_position=4, expected=None)  # no expected date: in neither
    target("won_revenue", world.rep, start, month_end(start), 10000)
    client.force_login(world.rep)

    response = client.get("/")

    card = response.context["forecast"].forecast
    state = row(response, "won_revenue").progress
    assert card.total == pytest.approx(3000 + 1000)
    assert state.forecast == pytest.approx(card.total)  # not the run rate 3000 / elapsed
    assert state.actual == pytest.approx(card.won)
    assert response.context["forecast"].total_text in response.content.decode()


def test_a_count_target_is_forecast_in_whole_numbers(client, world):
    start = month_start().date()
    for _ in range(7):
        CallFactory(owner=world.rep, occurred_at=this_month_moment())
    target("calls_made", world.rep, start, month_end(start), 100)
    client.force_login(world.rep)

    state = row(client.get("/"), "calls_made").progress

    assert isinstance(state.forecast, int) and state.forecast == round(7 / state.elapsed)


def test_a_closed_period_shows_actuals_only(client, world):
    last_year = month_start().year - 1
    start, end = dt.date(last_year, 1, 1), dt.date(last_year, 12, 31)
    moment = dt.datetime(last_year, 6, 15, 12, tzinfo=dt.UTC)
    won_deal(world.rep, "3000.00", moment)
    open_deal(world.rep, "2000.00", stage_position=3, expected=dt.date(last_year, 11, 30))  # still open, expected back then
    target("won_revenue", world.rep, start, end, 10000, TargetPeriod.YEAR)
    client.force_login(world.rep)

    response = client.get("/", {"period": "last_year"})

    page = response.content.decode()
    assert response.context["forecast"] is None
    assert "Revenue forecast" not in page and "expected to close, worth" not in page
    state = row(response, "won_revenue").progress
    assert state.actual == pytest.approx(3000) and state.attainment == pytest.approx(0.3)
    assert (state.forecast, state.pace, state.status) == (None, None, Status.MISSED)


def test_the_current_period_still_has_its_forecast_card(client, world):
    won_deal(world.rep, "9000.00", last_month_moment())
    client.force_login(world.rep)
    assert client.get("/").context["forecast"] is not None
