"""The forecast page: who opens it, what each sees, and that it shows the ranges the selector computes."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from html import unescape as html_unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from quota.accounts.models import Role, Team
from quota.crm.models import Stage
from quota.forecasting.calls import forecast_call_make, forecast_calls_record
from quota.forecasting.models import CallMethod, ForecastCall
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


# --------------------------------------------------------------------------- forecast calls


def _call(client, user, data, *, moment=IN_Q1):
    client.force_login(user)
    with clock_at(moment):
        return client.post("/forecast/call/", data)


def _q1_call(scope, amount, **extra):
    return {"scope": scope, "start": Q1[0].isoformat(), "end": Q1[1].isoformat(), "amount": amount, **extra}


def test_the_page_shows_each_persons_commit_the_managers_call_the_p50_and_the_target_side_by_side(client, world):
    rep, manager = world["rep"], world["manager"]
    with clock_at(IN_Q1):
        forecast_call_make(by=rep, start=Q1[0], end=Q1[1], amount="4500", user=rep)
        forecast_call_make(by=manager, start=Q1[0], end=Q1[1], amount="4200", user=rep)
        expected = forecast_ranges(user=manager, start=Q1[0], end=Q1[1], by="person").for_group(rep.pk)
    html = _get(client, manager, "period=this_quarter&by=person").content.decode()
    row = re.search(rf'<tr data-group="{rep.pk}".*?</tr>', html, re.S)
    assert row is not None and expected is not None
    cells = row.group(0)
    assert f'data-value="{expected.p50:.2f}"' in cells  # the model's P50
    assert 'data-commit="4500.00"' in cells and 'data-adjusted="4200.00"' in cells
    assert "4,000" in cells  # the target
    assert f'name="scope" value="person:{rep.pk}"' in cells  # the manager may call for their rep
    assert "Calls over the period" in html and "Forecast accuracy" in html


def test_a_directors_team_rows_sum_their_peoples_commits_and_take_a_company_call(client, world):
    rep, director = world["rep"], UserFactory(role=Role.DIRECTOR)
    with clock_at(IN_Q1):
        forecast_call_make(by=rep, start=Q1[0], end=Q1[1], amount="4500", user=rep)
    html = _get(client, director, "period=this_quarter&by=team").content.decode()
    row = re.search(rf'<tr data-group="{world["north"].pk}".*?</tr>', html, re.S)
    assert row is not None and 'data-commit="4500.00"' in row.group(0) and "(1 person)" in row.group(0)
    assert 'name="scope" value="company"' in html
    response = _call(client, director, _q1_call("company", "9000", next="/forecast/?period=this_quarter"))
    assert response.status_code == 302 and response["Location"] == "/forecast/?period=this_quarter"
    assert ForecastCall.objects.get(user=None, team=None).method == CallMethod.ADJUSTED
    html = _get(client, director, "period=this_quarter").content.decode()
    assert 'data-scope="company" data-call="9000.00"' in html


def test_a_rep_commits_from_their_dashboard_card_end_to_end(client, world):
    rep = world["rep"]
    client.force_login(rep)
    with clock_at(IN_Q1):
        board = client.get("/dashboards/my/?period=this_quarter").content.decode()
    assert 'data-kpi="revenue_forecast"' in board and 'data-commit=""' in board  # no commit yet
    form = re.search(r'<form method="post" action="/forecast/call/" class="call-form">.*?</form>', board, re.S)
    assert form is not None
    fields = dict(re.findall(r'name="(scope|start|end|next)" value="([^"]*)"', form.group(0)))
    assert fields["scope"] == f"person:{rep.pk}" and (fields["start"], fields["end"]) == (Q1[0].isoformat(), Q1[1].isoformat())
    with clock_at(IN_Q1):
        data = {**fields, "next": "/dashboards/my/?period=this_quarter", "amount": "4500"}
        response = client.post("/forecast/call/", data, follow=True)
    html = response.content.decode()
    assert response.redirect_chain == [("/dashboards/my/?period=this_quarter", 302)]
    assert "Your commit of €4,500 for Q1 2026 is saved." in html
    assert 'data-commit="4500.00"' in html and 'data-kpi="revenue_forecast"' in html
    assert ForecastCall.objects.get().method == CallMethod.COMMIT


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "-100"}, "A forecast call cannot be negative."),
        ({"amount": "a lot"}, "The amount must be a number"),
        ({"amount": ""}, "The amount must be a number"),
        ({"start": "2025-10-01", "end": "2025-12-31"}, "This period is over"),
        ({"start": "2026-01-01", "end": "2026-02-15"}, "whole month or a whole quarter"),
        ({"start": "yesterday"}, "Choose the period of the call."),
        ({"scope": "person:999999"}, "Choose whom the call is for."),
    ],
)
def test_bad_input_is_sent_back_with_a_clear_error_and_changes_nothing(client, world, data, message):
    rep = world["rep"]
    response = _call(client, rep, {**_q1_call(f"person:{rep.pk}", "4500", next="/dashboards/my/"), **data})
    assert response.status_code == 302 and response["Location"] == "/dashboards/my/"
    with clock_at(IN_Q1):
        shown = client.get(response["Location"]).content.decode()
    assert message in html_unescape(shown)
    assert not ForecastCall.objects.exists()


def test_callers_are_refused_beyond_their_reach_with_the_reason(client, world):
    rep, stranger = world["rep"], world["stranger"]
    refused = _call(client, rep, _q1_call(f"person:{stranger.pk}", "100"))
    assert refused.status_code == 403 and "for yourself" in html_unescape(refused.content.decode())
    manager = _call(client, world["manager"], _q1_call(f"team:{world['north'].pk}", "100"))
    assert manager.status_code == 302
    viewer = _call(client, UserFactory(role=Role.VIEWER, team=world["north"]), _q1_call("company", "100"))
    assert viewer.status_code == 403 and "Only sales reps" in html_unescape(viewer.content.decode())
    assert list(ForecastCall.objects.values_list("team", "method")) == [(world["north"].pk, CallMethod.ADJUSTED)]


def test_the_redirect_stays_on_this_site(client, world):
    rep = world["rep"]
    response = _call(client, rep, _q1_call(f"person:{rep.pk}", "100", next="https://elsewhere.example/"))
    assert response["Location"] == "/"


def test_the_calls_chart_shows_a_chosen_row_the_user_sees_and_refuses_others(client, world):
    rep, manager = world["rep"], world["manager"]
    with clock_at(IN_Q1):
        forecast_call_make(by=rep, start=Q1[0], end=Q1[1], amount="4500", user=rep, now=IN_Q1 - dt.timedelta(days=10))
    html = _get(client, manager, f"period=this_quarter&by=person&calls=person:{rep.pk}").content.decode()
    payload = re.search(r'<script id="calls-chart" type="application/json">(.*?)</script>', html, re.S)
    assert payload is not None
    chart = json.loads(payload.group(1))
    lines = {series["name"]: series["data"] for series in chart["series"]}
    assert len(chart["categories"]) == (IN_Q1.date() - Q1[0]).days + 1
    assert lines["Commit"][-1] == 4500 and lines["Commit"][0] is None
    assert lines["Target"][0] == 4000 and lines["Won so far"][-1] == 3000
    refused = _get(client, manager, f"period=this_quarter&by=person&calls=person:{world['stranger'].pk}")
    assert refused.status_code == 400 and "among the people and teams you see" in html_unescape(refused.content.decode())
    assert _get(client, manager, "period=this_quarter&calls=company").status_code == 400


def test_the_accuracy_table_measures_past_calls(client, world):
    rep, director = world["rep"], UserFactory(role=Role.DIRECTOR)
    # The rep won 3,000 in February; a commit of 2,400 made in February was 20 % too low.
    feb = (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    forecast_call_make(by=rep, start=feb[0], end=feb[1], amount="2400", user=rep, now=dt.datetime(2026, 2, 3, 9, tzinfo=dt.UTC))
    with clock_at(dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)):
        client.force_login(director)
        html = client.get("/forecast/?period=this_month&by=person").content.decode()
    row = re.search(rf'<tr data-accuracy="{rep.pk}">.*?</tr>', html, re.S)
    assert row is not None and 'data-mape="0.2000" data-bias="-0.2000"' in row.group(0)


def test_the_page_asks_as_many_queries_for_many_calls_as_for_one(client, world):
    director, rep = UserFactory(role=Role.DIRECTOR), world["rep"]

    def count() -> int:
        client.force_login(director)
        with clock_at(IN_Q1), CaptureQueriesContext(connection) as captured:
            assert client.get("/forecast/?period=this_quarter&by=person").status_code == 200
        return len(captured.captured_queries)

    forecast_call_make(by=rep, start=Q1[0], end=Q1[1], amount="100", user=rep, now=IN_Q1 - dt.timedelta(days=20))
    before = count()
    for day in range(1, 12):
        moment = IN_Q1 - dt.timedelta(days=day)
        forecast_call_make(by=rep, start=Q1[0], end=Q1[1], amount=str(100 + day), user=rep, now=moment)
        forecast_call_make(by=director, start=Q1[0], end=Q1[1], amount=str(200 + day), user=world["stranger"], now=moment)
        forecast_calls_record(now=moment)
    assert count() == before


def test_a_reps_target_row_and_forecast_card_give_the_same_chance(client, world):
    won_deals = Metric.objects.current().get(key="won_deals")  # no pipeline to forecast: no chance shown
    Target.objects.create(metric=won_deals, user=world["rep"], start=Q1[0], end=Q1[1], period="quarter", value=Decimal(5))
    client.force_login(world["rep"])
    with clock_at(IN_Q1):
        html = client.get("/dashboards/my/?period=this_quarter").content.decode()
        expected = forecast_ranges(user=world["rep"], start=Q1[0], end=Q1[1], by="person", targets={world["rep"].pk: 4000.0})
    chances = re.findall(r'data-reach="([0-9.]+)"', html)
    row = expected.for_group(world["rep"].pk)
    assert row is not None and row.reach is not None
    assert len(chances) == 2 and [float(c) for c in chances] == pytest.approx([row.reach, row.reach], abs=1e-4)
