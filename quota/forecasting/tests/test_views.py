"""The forecast page: who opens it, what each sees, and that it shows the ranges the selector computes."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from quota.accounts.models import Role, Team
from quota.crm.models import Stage
from quota.forecasting.ranges import forecast_ranges
from quota.kpi.models import Metric, Target
from quota.testing.clock import clock_at
from quota.testing.factories import DealFactory, UserFactory, default_pipeline

pytestmark = pytest.mark.django_db

IN_Q1 = dt.datetime(2026, 2, 20, 12, tzinfo=dt.UTC)
Q1 = (dt.date(2026, 1, 1), dt.date(2026, 3, 31))


@pytest.fixture
def world():
    with clock_at(IN_Q1):
        north, south = Team.objects.create(name="North"), Team.objects.create(name="South")
        manager = UserFactory(role=Role.MANAGER, team=north)
        rep, stranger = UserFactory(team=north, first_name="Ann"), UserFactory(team=south, first_name="Sven")
        stage = Stage.objects.get(pipeline=default_pipeline(), position=3)
        created = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
        DealFactory(
            owner=rep, amount=Decimal("3000"), status="won", created_at=created, closed_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
        )
        for owner in (rep, rep, stranger):
            DealFactory(
                owner=owner, amount=Decimal("1000"), stage=stage, expected_close_date=dt.date(2026, 3, 15), created_at=created
            )
        won_revenue = Metric.objects.current().get(key="won_revenue")
        Target.objects.create(metric=won_revenue, user=rep, start=Q1[0], end=Q1[1], period="quarter", value=Decimal("4000"))
        yield {"manager": manager, "rep": rep, "stranger": stranger, "north": north}


def _get(client, user, query="period=this_quarter", **headers):
    client.force_login(user)
    with clock_at(IN_Q1):
        return client.get(f"/forecast/?{query}", **headers)


def test_a_director_sees_every_team_with_the_ranges_the_selector_computes(client, world):
    director = UserFactory(role=Role.DIRECTOR)
    response = _get(client, director)
    assert response.status_code == 200
    html = response.content.decode()
    assert "North" in html and "South" in html
    with clock_at(IN_Q1):
        expected = forecast_ranges(user=director, start=Q1[0], end=Q1[1], by="team").for_group(world["north"].pk)
    assert expected is not None
    assert f'data-group="{world["north"].pk}" data-value="{expected.p50:.2f}"' in html


def test_a_manager_sees_their_own_people_and_the_chance_of_reaching_a_target(client, world):
    response = _get(client, world["manager"], "period=this_quarter&by=person")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Ann" in html and "Sven" not in html
    row = re.search(rf'data-group="{world["rep"].pk}".*?</tr>', html, re.S)
    assert row is not None and "%" in row.group(0)  # the target's row says its chance


def test_a_rep_is_refused_with_the_reason(client, world):
    response = _get(client, world["rep"])
    assert response.status_code == 403
    assert "forecast page" in response.content.decode()


def test_a_bad_grouping_is_a_clear_400_and_a_past_period_forecasts_nothing(client, world):
    director = UserFactory(role=Role.DIRECTOR)
    bad = _get(client, director, "period=this_quarter&by=stage")
    assert bad.status_code == 400 and "by team or by person" in bad.content.decode()
    past = _get(client, director, "period=last_quarter")
    assert past.status_code == 200 and "Nothing is forecast" in past.content.decode()


def test_htmx_gets_the_body_alone(client, world):
    response = _get(client, UserFactory(role=Role.DIRECTOR), "period=this_quarter", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and "forecast-chart" in html


def test_the_dashboard_card_and_the_forecast_page_give_the_same_range(client, world):
    """One truth: the director's forecast card and the page's total say the same P10, P90 and chance."""
    director = UserFactory(role=Role.DIRECTOR)
    won_revenue = Metric.objects.current().get(key="won_revenue")
    Target.objects.create(metric=won_revenue, start=Q1[0], end=Q1[1], period="quarter", value=Decimal("6000"))
    page = _get(client, director, "period=this_quarter").content.decode()
    with clock_at(IN_Q1):
        dashboard = client.get("/dashboards/sales/?period=this_quarter").content.decode()
    p10 = re.search(r'data-p10="([0-9.]+)" data-p90="([0-9.]+)"', dashboard)
    reach = re.search(r'data-reach="([0-9.]+)"', dashboard)
    assert p10 is not None and reach is not None
    with clock_at(IN_Q1):
        total = forecast_ranges(user=director, start=Q1[0], end=Q1[1], targets={None: 6000.0}).rows[0]
    assert (float(p10.group(1)), float(p10.group(2))) == pytest.approx((total.p10, total.p90), abs=0.01)
    assert float(reach.group(1)) == pytest.approx(total.reach, abs=1e-4)
    assert f'data-kpi="forecast_p50" data-value="{total.p50:.2f}"' in page


def test_the_page_shows_the_periods_waterfall_and_how_probabilities_are_made(client, world):
    html = _get(client, UserFactory(role=Role.DIRECTOR)).content.decode()
    total = re.search(r'data-group="total" data-start="([0-9.]+)" data-end="([0-9.]+)"', html)
    assert total is not None
    # The three open deals (3,000) were created on 5 January, after the quarter began: new, and still there.
    assert (float(total.group(1)), float(total.group(2))) == (0.0, 3000.0)
    assert "waterfall-chart" in html and "no model has been trained yet" in html
