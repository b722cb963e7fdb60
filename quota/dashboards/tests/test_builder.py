"""The KPI builder page: a live preview before saving, and who may save."""

from __future__ import annotations

import json

import pytest

from quota.accounts.models import Role
from quota.dashboards.tests.conftest import HTMX, this_month_moment, won_deal
from quota.kpi.models import Metric
from quota.testing.factories import UserFactory

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


def test_a_rep_may_neither_preview_nor_save(client, world):
    client.force_login(world.rep)
    page = client.get("/dashboards/builder/")
    assert "Save KPI" not in page.content.decode() and "/dashboards/builder/preview/" not in page.content.decode()
    preview = client.post("/dashboards/builder/preview/", BIG_DEALS, **HTMX)
    assert preview.status_code == 403 and "Only administrators and directors define KPIs." in preview.content.decode()
    assert client.post("/dashboards/builder/", BIG_DEALS).status_code == 403
    assert not Metric.objects.filter(key="big_deals_won").exists()


# --------------------------------------------------------------------------- walls: who previews, which fields


def _probe(**changes):
    return {**BIG_DEALS, "name": "", **changes}


def _filters(*items):
    return json.dumps([{"field": "status", "op": "eq", "value": "won"}, *items])


def _exists(filters, source="deals", link="company"):
    return {"source": source, "link": link, "date": "created_at", "when": "earlier", "filters": filters}


FORBIDDEN = {
    "owner password": _probe(filters=_filters({"field": "owner__password", "op": "contains", "value": "$1000000$wlzz"})),
    "owner e-mail": _probe(filters=_filters({"field": "owner__email", "op": "contains", "value": "@"})),
    "owner superuser": _probe(filters=_filters({"field": "owner__is_superuser", "op": "eq", "value": True})),
    "owner token": _probe(filters=_filters({"field": "owner__auth_token__key", "op": "contains", "value": "a"})),
    "created by": _probe(filters=_filters({"field": "created_by__password", "op": "contains", "value": "a"})),
    "through company": _probe(filters=_filters({"field": "company__owner__password", "op": "contains", "value": "a"})),
    "through deal": _probe(
        source="activities", date="", filters=json.dumps([{"field": "deal__owner__password", "op": "contains", "value": "a"}])
    ),
    "inside exists": _probe(
        filters=_filters(
            {
                "field": "company",
                "op": "exists",
                "value": _exists([{"field": "owner__password", "op": "contains", "value": "$1000000$wlzz"}]),
            }
        )
    ),
    "counted for": _probe(attribution="owner__password"),
    "distinct of": _probe(measure="distinct", field="owner__email"),
    "share of": _probe(
        measure="ratio",
        ratio_of="count",
        denominator="count",
        numerator_filters=json.dumps([{"field": "owner__last_login", "op": "isnull", "value": False}]),
    ),
}


@pytest.fixture
def definers(world):
    return {"director": world.director, "admin": UserFactory(username="admin", role=Role.ADMIN, team=None)}


@pytest.mark.parametrize("who", ["director", "admin"])
@pytest.mark.parametrize("probe", list(FORBIDDEN), ids=list(FORBIDDEN))
def test_a_preview_naming_a_user_field_is_refused_for_everyone_who_may_preview(client, definers, probe, who):
    won_deal(definers["director"], "5000.00", this_month_moment())
    client.force_login(definers[who])
    response = client.post("/dashboards/builder/preview/", FORBIDDEN[probe], **HTMX)
    text = response.content.decode()
    assert response.status_code == 200 and "result" not in response.context
    assert "This KPI cannot be computed yet" in text
    assert "is not a field of" in text and "that a KPI may use" in text and "It may use:" in text


def test_two_previews_that_differ_only_in_a_refused_filters_value_answer_the_same(client, world):
    won_deal(world.rep, "5000.00", this_month_moment())
    client.force_login(world.director)

    def answer(value):
        probe = _probe(filters=_filters({"field": "owner__password", "op": "contains", "value": value}))
        return client.post("/dashboards/builder/preview/", probe, **HTMX).content

    hash_prefix = world.rep.password[:12]  # text that is in the hash: the oracle answered differently for it
    assert answer(hash_prefix) == answer("not in any hash") == answer(world.rep.password)


@pytest.mark.parametrize("role", [Role.REP, Role.MANAGER, Role.VIEWER, Role.MARKETING, Role.SERVICE])
def test_only_those_who_define_kpis_preview_them(client, world, role):
    won_deal(world.rep, "5000.00", this_month_moment())
    client.force_login(UserFactory(role=role, team=world.north))
    response = client.post("/dashboards/builder/preview/", BIG_DEALS, **HTMX)
    assert response.status_code == 403
    assert "Only administrators and directors define KPIs." in response.content.decode()
    plain = client.post("/dashboards/builder/preview/", BIG_DEALS)
    assert plain.status_code == 403 and "Only administrators and directors define KPIs." in plain.content.decode()


@pytest.mark.parametrize("who", ["director", "admin"])
def test_directors_and_administrators_preview(client, definers, who):
    won_deal(definers["director"], "5000.00", this_month_moment())
    client.force_login(definers[who])
    response = client.post("/dashboards/builder/preview/", BIG_DEALS, **HTMX)
    assert response.status_code == 200 and response.context["result"].points[-1].value == 1


def test_saving_a_definition_with_a_refused_field_writes_nothing(client, world):
    client.force_login(world.director)
    before = Metric.objects.count()
    response = client.post(
        "/dashboards/builder/",
        {**BIG_DEALS, "filters": _filters({"field": "owner__password", "op": "contains", "value": "$"})},
    )
    assert response.status_code == 200
    assert "'owner__password' is not a field of user that a KPI may use. It may use: id, role, team." in (
        response.content.decode().replace("&#x27;", "'")
    )
    assert Metric.objects.count() == before and not Metric.objects.filter(key="big_deals_won").exists()


def test_filters_nested_too_deeply_are_a_form_error_not_a_server_error(client, world):
    client.force_login(world.director)
    deep = "[" * 20_000 + "]" * 20_000
    preview = client.post("/dashboards/builder/preview/", {**BIG_DEALS, "filters": deep}, HTTP_HX_REQUEST="true")
    assert preview.status_code == 200 and "nested more than 32 levels" in preview.content.decode()
    saved = client.post("/dashboards/builder/", {**BIG_DEALS, "filters": deep})
    assert saved.status_code == 200 and "nested more than 32 levels" in saved.content.decode()
    assert not Metric.objects.filter(key="big_deals_won").exists()
