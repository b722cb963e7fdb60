"""The role dashboards: who lands where, the numbers on the cards, what a rep may see, the period picker."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from quota.crm.models import Deal
from quota.dashboards.tests.conftest import (
    HTMX,
    last_month_moment,
    lost_deal,
    month_start,
    open_deal,
    this_month_moment,
    won_deal,
)
from quota.kpi.models import Metric, Target
from quota.testing.factories import CallFactory, CaseFactory, LeadFactory, SurveyAnswerFactory

pytestmark = pytest.mark.django_db


def card(response, key):
    return next(c for c in response.context["cards"] if c.key == key)


def won_revenue_of(deals) -> Decimal:
    """The independent reference: amount x exchange rate of won deals, summed in plain Python."""
    return sum((d.amount * d.exchange_rate for d in deals if d.status == "won"), Decimal(0))


@pytest.fixture
def sales(world):
    """Won, lost and open deals this month and last month, in both teams."""
    this, last = this_month_moment(), last_month_moment()
    month_end = (month_start() + dt.timedelta(days=32)).replace(day=1).date() - dt.timedelta(days=1)
    deals = [
        won_deal(world.rep, "1000.00", this),
        won_deal(world.rep, "250.50", this, rate="2"),
        won_deal(world.teammate, "4000.00", this),
        won_deal(world.south_rep, "777777.00", this),
        won_deal(world.rep, "9000.00", last),
        lost_deal(world.rep, this),
        lost_deal(world.south_rep, this, reason="Timing"),
        open_deal(world.rep, "2000.00", stage_position=3, expected=month_end),  # 50 %: 1000 weighted
        open_deal(world.south_rep, "8000.00", stage_position=4, expected=month_end),  # 75 %: 6000 weighted
        open_deal(world.rep, "5000.00", stage_position=4, expected=None),  # no expected date: not in the forecast
    ]
    return deals


@pytest.mark.parametrize(
    ("user", "board"),
    [("director", "sales"), ("manager", "sales"), ("rep", "my"), ("marketer", "marketing"), ("agent", "service")],
)
def test_each_role_lands_on_its_dashboard(client, world, sales, user, board):
    client.force_login(getattr(world, user))
    response = client.get("/")
    assert response.status_code == 200
    assert response.context["board"].value == board
    assert response.context["boards"][0].value == board  # the first tab is the home one


def test_director_cards_match_an_independent_computation(client, world, sales):
    client.force_login(world.director)
    response = client.get("/")
    this_month = [d for d in sales if d.closed_at and d.closed_at >= month_start()]
    assert card(response, "won_revenue").value == pytest.approx(float(won_revenue_of(this_month)))
    assert card(response, "won_deals").value == sum(1 for d in this_month if d.status == "won")
    closed = [d for d in this_month if d.status in {"won", "lost"}]
    assert card(response, "win_rate").value == pytest.approx(sum(d.status == "won" for d in closed) / len(closed))
    # The trend compares with the same days of last month.
    before = response.context["period"].previous_to_date(timezone.localdate())
    start, end = (timezone.make_aware(dt.datetime.combine(day, dt.time.min)) for day in (before.start, before.end))
    same_days = [d for d in sales if d.closed_at and start <= d.closed_at < end]
    assert card(response, "won_revenue").previous == pytest.approx(float(won_revenue_of(same_days)))
    content = response.content.decode()
    assert "Pipeline by stage" in content and "Sales race" in content and "Teams" in content


def test_forecast_is_won_so_far_plus_the_weighted_pipeline_expected_in_the_period(client, world, sales):
    client.force_login(world.director)
    forecast = client.get("/").context["forecast"].forecast
    this_month = [d for d in sales if d.closed_at and d.closed_at >= month_start()]
    assert forecast.won == pytest.approx(float(won_revenue_of(this_month)))
    assert forecast.weighted == pytest.approx(1000.0 + 6000.0)
    assert forecast.open_deals == 2
    assert forecast.total == pytest.approx(forecast.won + 7000.0)


def test_cards_show_target_attainment_and_pace(client, world, sales):
    start = month_start().date()
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    won_revenue = Metric.objects.get(key="won_revenue", is_current=True)
    Target.objects.create(metric=won_revenue, start=start, end=end, value=Decimal("1000000"))
    client.force_login(world.director)
    won = card(client.get("/"), "won_revenue")
    assert won.target == 1_000_000
    assert won.progress.attainment == pytest.approx(won.value / 1_000_000)
    assert won.progress.pace is not None and won.status is not None
    assert won.trend is not None


def test_a_rep_never_sees_another_teams_figures(client, world, sales):
    client.force_login(world.rep)
    for url in ("/", "/dashboards/sales/", "/dashboards/kpi/won_revenue/?by=person"):
        response = client.get(url)
        assert response.status_code == 200
        content = response.content.decode()
        assert "777,777" not in content and "777777" not in content, url
        assert world.south_rep.get_full_name() not in content, url
    my = client.get("/")
    assert card(my, "won_revenue").value == pytest.approx(1000.0 + 501.0)  # the rep's own deals only
    team = client.get("/dashboards/sales/")
    assert card(team, "won_revenue").value == pytest.approx(1000.0 + 501.0 + 4000.0)  # North's


def test_a_rep_cannot_open_the_marketing_dashboard(client, world):
    client.force_login(world.rep)
    assert client.get("/dashboards/marketing/").status_code == 403
    assert client.get("/dashboards/nonsense/").status_code == 404


def test_the_period_picker_changes_the_range(client, world, sales):
    client.force_login(world.director)
    response = client.get("/?period=last_month")
    period = response.context["period"]
    assert period.start == (month_start() - dt.timedelta(days=1)).date().replace(day=1)
    assert card(response, "won_revenue").value == pytest.approx(9000.0)

    response = client.get("/?period=custom&start=2020-01-01&end=2020-03-31")
    assert (response.context["period"].start, response.context["period"].end) == (dt.date(2020, 1, 1), dt.date(2020, 3, 31))
    assert card(response, "won_revenue").value == 0

    response = client.get("/?period=this_quarter")
    assert response.context["period"].every == "quarter"


def test_an_invalid_custom_range_says_why_and_shows_this_month(client, world):
    client.force_login(world.director)
    response = client.get("/?period=custom&start=2026-03-01&end=2026-01-01")
    assert response.context["period"].key == "this_month"
    assert "The range ends before it starts." in response.content.decode()


def test_htmx_swaps_only_the_dashboard_and_keeps_the_period_in_the_tabs(client, world, sales):
    client.force_login(world.director)
    response = client.get("/dashboards/sales/?period=last_quarter", HTTP_HX_TARGET="dashboard", **HTMX)
    content = response.content.decode()
    assert "<html" not in content and 'id="chart-funnel"' in content
    assert "/dashboards/marketing/?period=last_quarter" in content


def test_charts_are_json_payloads(client, world, sales):
    client.force_login(world.director)
    content = client.get("/").content.decode()
    assert '<script id="chart-funnel" type="application/json">' in content
    assert 'data-chart="chart-outcomes"' in content


def test_marketing_and_service_boards_show_their_kpis(client, world):
    now = timezone.now()
    LeadFactory(owner=world.rep, created_at=this_month_moment())
    CaseFactory(owner=world.agent, created_at=now - dt.timedelta(hours=5))
    SurveyAnswerFactory(owner=world.agent, kind="csat", score=4, answered_at=this_month_moment())
    SurveyAnswerFactory(owner=world.agent, kind="csat", score=2, answered_at=this_month_moment())
    CallFactory(owner=world.rep, occurred_at=this_month_moment())
    client.force_login(world.marketer)
    marketing = client.get("/")
    assert card(marketing, "new_leads").value == 1
    client.force_login(world.agent)
    service = client.get("/")
    assert card(service, "csat").value == pytest.approx(3.0)
    assert card(service, "open_cases").value == 1


def test_a_sellers_board_lists_their_deals_closing_in_the_period(client, world, sales):
    client.force_login(world.rep)
    response = client.get("/")
    closing = response.context["closing"]
    expected = Deal.objects.filter(owner=world.rep, status="open", expected_close_date__isnull=False)
    assert [d.pk for d in closing] == [d.pk for d in expected]
    assert f"/crm/deals/{closing[0].pk}/" in response.content.decode()
    assert response.context["forecast"].forecast.weighted == pytest.approx(1000.0)


def test_the_activity_race_ranks_the_team_against_targets(client, world):
    start = month_start().date()
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    calls = Metric.objects.get(key="calls_made", is_current=True)
    for person, count, target in ((world.rep, 2, 10), (world.teammate, 3, 4)):
        for _ in range(count):
            CallFactory(owner=person, occurred_at=this_month_moment())
        Target.objects.create(metric=calls, user=person, start=start, end=end, value=target)
    CallFactory(owner=world.south_rep, occurred_at=this_month_moment())
    client.force_login(world.rep)
    race = client.get("/").context["activity"]
    people = [row.person for row in race.rows]
    assert people[0] == world.teammate and world.south_rep not in people
    assert race.rows[0].cells[0].value == 3 and race.rows[0].cells[0].target == 4


def test_a_managers_sales_board_is_their_teams_against_the_teams_targets(client, world, sales):
    start = month_start().date()
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    won_revenue = Metric.objects.get(key="won_revenue", is_current=True)
    Target.objects.create(metric=won_revenue, team=world.north, start=start, end=end, value=Decimal("10000"))
    Target.objects.create(metric=won_revenue, start=start, end=end, value=Decimal("999999"))  # the company's: not theirs
    client.force_login(world.manager)
    response = client.get("/")
    won = card(response, "won_revenue")
    assert won.value == pytest.approx(1000.0 + 501.0 + 4000.0) and won.target == 10000
    assert [row.label for row in response.context["teams"].rows] == ["North"]
    assert "777,777" not in response.content.decode()
