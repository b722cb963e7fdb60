"""The KPI builder page: a live preview before saving, and who may save."""

from __future__ import annotations

import json

import pytest

from quota.dashboards.tests.conftest import this_month_moment, won_deal
from quota.kpi.models import Metric

pytestmark = pytest.mark.django_db

BIG_DEALS = {
    "name": "Big deals won",
    "description": "Deals won over 1,000 in the period, by close date.",
    "source": "deals",
    "measure": "count",
    "date": "closed_at",
    "filters": json.dumps([{"field": "status", "op": "eq", "value": "won"}, {"field": "amount", "op": "gt", "value": 1000}]),
    "per": "day",
    "better": "higher",
}


def test_preview_evaluates_the_definition_without_saving(client, world):
    won_deal(world.rep, "5000.00", this_month_moment())
    won_deal(world.rep, "50.00", this_month_moment())
    client.force_login(world.director)
    response = client.post("/dashboards/builder/preview/", {**BIG_DEALS, "name": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    result = response.context["result"]
    assert len(result.points) == 13 and result.points[-1].value == 1
    assert 'data-chart="chart-preview"' in response.content.decode()
    assert not Metric.objects.filter(key="big_deals_won").exists()


def test_preview_explains_a_definition_that_cannot_be_computed(client, world):
    client.force_login(world.director)
    response = client.post("/dashboards/builder/preview/", {**BIG_DEALS, "measure": "sum", "field": "nonsense"})
    assert "result" not in response.context
    assert "nonsense" in response.content.decode() and "This KPI cannot be computed yet" in response.content.decode()


def test_a_director_saves_the_kpi_and_lands_on_its_page(client, world):
    client.force_login(world.director)
    response = client.post("/dashboards/builder/", BIG_DEALS)
    assert response.status_code == 302 and response.url == "/dashboards/kpi/big_deals_won/"
    metric = Metric.objects.get(key="big_deals_won", is_current=True)
    assert not metric.is_builtin and metric.created_by == world.director
    assert client.get(response.url).status_code == 200


def test_a_rep_may_preview_but_not_save(client, world):
    client.force_login(world.rep)
    page = client.get("/dashboards/builder/")
    assert "Save KPI" not in page.content.decode()
    assert client.post("/dashboards/builder/preview/", BIG_DEALS).status_code == 200
    assert client.post("/dashboards/builder/", BIG_DEALS).status_code == 403
    assert not Metric.objects.filter(key="big_deals_won").exists()


def test_filters_nested_too_deeply_are_a_form_error_not_a_server_error(client, world):
    client.force_login(world.director)
    deep = "[" * 20_000 + "]" * 20_000
    preview = client.post("/dashboards/builder/preview/", {**BIG_DEALS, "filters": deep}, HTTP_HX_REQUEST="true")
    assert preview.status_code == 200 and "nested more than 32 levels" in preview.content.decode()
    saved = client.post("/dashboards/builder/", {**BIG_DEALS, "filters": deep})
    assert saved.status_code == 200 and "nested more than 32 levels" in saved.content.decode()
    assert not Metric.objects.filter(key="big_deals_won").exists()
