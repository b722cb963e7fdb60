"""A KPI in depth: 13 months beside last year, the breakdown, the records behind the number, adding it to a dashboard."""

from __future__ import annotations

import datetime as dt

import pytest

from quota.dashboards.models import DashboardCard
from quota.dashboards.tests.conftest import HTMX, month_start, won_deal
from quota.kpi.periods import add_months

pytestmark = pytest.mark.django_db


def test_the_trend_has_13_months_with_the_year_before(client, world):
    this_month = month_start()
    year_ago = this_month.replace(year=this_month.year - 1) + dt.timedelta(days=3)
    won_deal(world.rep, "1200.00", year_ago)  # a year before this month: this month's "last year"
    won_deal(world.rep, "300.00", this_month + dt.timedelta(minutes=1))
    client.force_login(world.director)
    trend = client.get("/dashboards/kpi/won_revenue/").context["trend"]
    assert len(trend.months) == 13
    assert trend.months[0] == add_months(this_month.date(), -12) and trend.months[-1] == this_month.date()
    assert trend.values["won_revenue"][-1] == pytest.approx(300.0)
    assert trend.last_year["won_revenue"][-1] == pytest.approx(1200.0)  # the same month a year earlier
    assert trend.values["won_revenue"][0] == pytest.approx(1200.0)  # ... which is also the first month shown


def test_breakdown_by_person_and_by_team_with_their_records(client, world):
    at = month_start() + dt.timedelta(minutes=5)
    won_deal(world.rep, "100.00", at)
    won_deal(world.south_rep, "300.00", at)
    client.force_login(world.director)
    response = client.get("/dashboards/kpi/won_revenue/?by=person")
    rows = {row.label: row for row in response.context["breakdown"].rows}
    assert rows[str(world.south_rep)].value == pytest.approx(300.0) and rows[str(world.south_rep)].share == pytest.approx(0.75)
    link = rows[str(world.rep)].records
    assert f"owner={world.rep.pk}" in link.url and "status=won" in link.url and link.complete

    response = client.get("/dashboards/kpi/won_revenue/?by=team", HTTP_HX_TARGET="breakdown", **HTMX)
    content = response.content.decode()
    assert "<html" not in content and 'hx-swap-oob="true"' in content  # the period picker learns the new grouping
    assert [row.label for row in response.context["breakdown"].rows] == ["South", "North"]


def test_breakdown_by_a_custom_field_and_a_company_attribute(client, world):
    from quota.crm.models import CustomField

    CustomField.objects.create(
        target="deal", key="contract", label="Contract", field_type="choice", choices=["annual", "monthly"]
    )
    at = month_start() + dt.timedelta(minutes=5)
    annual = won_deal(world.rep, "100.00", at)
    annual.custom = {"contract": "annual"}
    annual.save()
    won_deal(world.south_rep, "300.00", at)
    client.force_login(world.director)
    response = client.get("/dashboards/kpi/won_revenue/?by=custom.contract")
    assert ("custom.contract", "Contract") in response.context["by_choices"]
    assert ("company.size", "Company size") in response.context["by_choices"]
    assert response.context["by_label"] == "Contract"
    rows = [(row.label, row.value) for row in response.context["breakdown"].rows]
    assert rows == [("(blank)", pytest.approx(300.0)), ("annual", pytest.approx(100.0))]
    assert not response.context["breakdown"].rows[0].records.complete  # the deal list has no such filter


def test_the_records_behind_the_number_are_the_filtered_list(client, world):
    client.force_login(world.director)
    response = client.get("/dashboards/kpi/won_revenue/?period=custom&start=2026-01-01&end=2026-01-31")
    records = response.context["records"]
    assert records.url == "/crm/deals/?closed_after=2026-01-01&closed_before=2026-02-01&status=won"
    assert client.get(records.url).status_code == 200
    win_rate = client.get("/dashboards/kpi/win_rate/").context["records"]
    assert not win_rate.complete  # "won or lost" is not a filter the deal list has


def test_an_unknown_kpi_is_not_found(client, world):
    client.force_login(world.director)
    assert client.get("/dashboards/kpi/no_such_kpi/").status_code == 404


def test_any_kpi_can_be_added_to_a_dashboard_and_removed(client, world):
    client.force_login(world.rep)
    response = client.post("/dashboards/cards/add/", {"key": "talk_minutes", "board": "my"})
    assert response.status_code == 302
    card = DashboardCard.objects.get(user=world.rep)
    cards = client.get("/").context["cards"]
    added = next(c for c in cards if c.key == "talk_minutes")
    assert added.card_id == card.pk
    client.post(f"/dashboards/cards/{card.pk}/remove/")
    assert not DashboardCard.objects.exists()


def test_a_card_cannot_be_added_to_a_dashboard_the_user_may_not_open(client, world):
    client.force_login(world.rep)
    assert client.post("/dashboards/cards/add/", {"key": "nps", "board": "service"}).status_code == 403
    response = client.post("/dashboards/cards/add/", {"key": "nonsense", "board": "my"}, follow=True)
    assert "There is no KPI" in response.content.decode()
    assert not DashboardCard.objects.exists()


def test_someone_elses_card_cannot_be_removed(client, world):
    card = DashboardCard.objects.create(user=world.teammate, board="my", metric_key="nps")
    client.force_login(world.rep)
    client.post(f"/dashboards/cards/{card.pk}/remove/")
    assert DashboardCard.objects.filter(pk=card.pk).exists()


def test_the_period_picker_swaps_the_kpi_pages_body(client, world):
    client.force_login(world.director)
    response = client.get("/dashboards/kpi/new_leads/?period=last_year&by=source", HTTP_HX_TARGET="kpi-body", **HTMX)
    content = response.content.decode()
    assert "<html" not in content and 'id="chart-trend"' in content and 'id="breakdown"' in content
    assert response.context["period"].every == "year" and response.context["by"] == "source"
    assert len(response.context["trend"].months) == 13


OUT_OF_RANGE = {"period": "custom", "start": "9999-12-25", "end": "9999-12-31"}


@pytest.mark.parametrize("page", ["/", "/dashboards/sales/", "/dashboards/kpi/won_revenue/"])
def test_a_period_out_of_range_is_a_400_with_the_reason(client, world, page):
    client.force_login(world.director)
    response = client.get(page, OUT_OF_RANGE)
    assert response.status_code == 400 and "Choose a date between" in response.content.decode()
    partial = client.get(page, OUT_OF_RANGE, HTTP_HX_TARGET="dashboard", **HTMX)
    assert partial.status_code == 400 and "<html" not in partial.content.decode()
    assert "Choose a date between" in partial.content.decode()


@pytest.mark.parametrize("table", ["trend", "breakdown"])
def test_an_export_for_a_period_out_of_range_is_refused(client, world, table):
    client.force_login(world.director)
    response = client.get("/dashboards/kpi/won_revenue/export/", {**OUT_OF_RANGE, "table": table, "format": "csv"})
    assert response.status_code == 400 and "Choose a date between" in response.content.decode()
