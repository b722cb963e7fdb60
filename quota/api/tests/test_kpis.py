"""The KPI API: definitions, values equal to `quota kpi eval --format json`, per-role walls, defining, targets."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.urls import resolve

from quota.accounts.models import Role, Team
from quota.crm.models import CustomField, Deal
from quota.kpi.models import Metric, Target, TargetPeriod
from quota.testing.api import client_for
from quota.testing.clock import clock_at
from quota.testing.commands import run_command
from quota.testing.factories import CompanyFactory, DealFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2024, 3, 16, 12, tzinfo=dt.UTC)  # half of March gone
WON_COUNT = {"source": "deals", "date": "closed_at", "measure": {"kind": "count"}, "unit": "count", "better": "higher"}


def won(owner, day, amount):
    moment = dt.datetime(2024, 3, day, 10, tzinfo=dt.UTC)
    DealFactory(owner=owner, amount=Decimal(amount), status="won", created_at=moment, closed_at=moment)


@pytest.fixture
def people():
    company = Team.objects.create(name="Company")
    north = Team.objects.create(name="North", parent=company)
    south = Team.objects.create(name="South", parent=company)
    anna = UserFactory(team=north, first_name="Anna", last_name="North")
    olga = UserFactory(team=south, first_name="Olga", last_name="South")
    director = UserFactory(team=company, role=Role.DIRECTOR, username="boss")
    won(anna, 2, "600")
    won(anna, 9, "400")
    won(olga, 3, "100")
    return {"north": north, "south": south, "anna": anna, "olga": olga, "director": director}


def cli_json(*args):
    return json.loads(run_command("kpi", *args, "--format", "json"))


# --------------------------------------------------------------------------- definitions


def test_list_and_detail_show_definitions(people):
    client = client_for(people["anna"])
    listed = client.get("/api/kpis/", {"page": 1})
    assert listed.status_code == 200
    keys = [row["key"] for row in listed.json()["results"]]
    if listed.json()["next"]:  # more KPIs than a page holds
        keys += [row["key"] for row in client.get("/api/kpis/", {"page": 2}).json()["results"]]
    assert "won_revenue" in keys and listed.json()["count"] == Metric.objects.current().count()
    detail = client.get("/api/kpis/won_revenue/").json()
    assert detail["unit"] == "money" and detail["builtin"] is True and detail["definition"]["source"] == "deals"
    assert client.get("/api/kpis/no_such_kpi/").status_code == 404


# --------------------------------------------------------------------------- values


def test_values_equal_the_command_line_json(people):
    with clock_at(NOW, tick=False):
        query = {"from": "2024-01-01", "to": "2024-03-31", "every": "month", "by": "person"}
        api = client_for(people["director"]).get("/api/kpis/won_revenue/values/", query)
        cli = cli_json("eval", "won_revenue", *(f"--{name}={value}" for name, value in query.items()), "--as", "boss")
    assert api.status_code == 200
    assert api.json() == cli
    assert ("2024-03-01", "Anna North", 1000.0) in [(r["period"], r["group"], r["value"]) for r in cli]


def test_values_default_range_and_where_equal_the_command_line(people):
    where = json.dumps([{"field": "amount", "op": "gte", "value": 500}])
    with clock_at(NOW, tick=False):
        api = client_for(people["director"]).get("/api/kpis/won_deals/values/", {"every": "none", "where": where})
        cli = cli_json("eval", "won_deals", "--every", "none", "--where", where, "--as", "boss")
    assert api.status_code == 200 and api.json() == cli
    assert [r["value"] for r in cli] == [1]  # only Anna's 600


def test_values_by_a_custom_field_and_where_a_segment_equal_the_command_line(people):
    CustomField.objects.create(
        target="deal", key="contract", label="Contract", field_type="choice", choices=["annual", "monthly"]
    )
    CustomField.objects.create(target="company", key="tier", label="Tier", field_type="text")
    Deal.objects.filter(amount=Decimal(600)).update(custom={"contract": "annual"})
    Deal.objects.filter(amount=Decimal(100)).update(
        custom={"contract": "monthly"}, company=CompanyFactory(custom={"tier": "gold"})
    )
    query = {"from": "2024-01-01", "to": "2024-03-31", "every": "month", "by": "custom.contract"}
    with clock_at(NOW, tick=False):
        api = client_for(people["director"]).get("/api/kpis/won_revenue/values/", query)
        cli = cli_json("eval", "won_revenue", *(f"--{name}={value}" for name, value in query.items()), "--as", "boss")
        segment = {**query, "where": ["company.custom.tier=gold"]}
        api_segment = client_for(people["director"]).get("/api/kpis/won_revenue/values/", segment)
        cli_segment = cli_json(
            "eval", "won_revenue", *(f"--{name}={value}" for name, value in query.items()), "--where", "company.custom.tier=gold"
        )
    assert api.status_code == 200 and api.json() == cli
    march = [(r["group"], r["value"]) for r in cli if r["period"] == "2024-03-01"]
    assert march == [("annual", 600.0), ("monthly", 100.0), ("(blank)", 400.0)]
    assert api_segment.status_code == 200 and api_segment.json() == cli_segment
    assert [(r["group"], r["value"]) for r in cli_segment if r["period"] == "2024-03-01"] == [("monthly", 100.0)]


def test_an_unknown_dimension_is_a_400_naming_what_there_is(people):
    response = client_for(people["director"]).get("/api/kpis/won_revenue/values/", {"by": "custom.nothing"})
    assert response.status_code == 400
    assert "Deals have no custom.nothing" in response.json()["by"][0] and "company.size" in response.json()["by"][0]
    response = client_for(people["director"]).get("/api/kpis/won_revenue/values/", {"where": ["source=nowhere"]})
    assert response.status_code == 400 and "No lead source is 'nowhere'" in response.json()["where"][0]


def test_a_rep_sees_only_their_team(people):
    with clock_at(NOW, tick=False):
        rows = client_for(people["anna"]).get(
            "/api/kpis/won_revenue/values/", {"from": "2024-03-01", "to": "2024-03-31", "every": "none", "by": "person"}
        )
        everything = client_for(people["director"]).get(
            "/api/kpis/won_revenue/values/", {"from": "2024-03-01", "to": "2024-03-31", "every": "none", "by": "person"}
        )
    assert [(r["group"], r["value"]) for r in rows.json()] == [("Anna North", 1000.0)]
    assert [(r["group"], r["value"]) for r in everything.json()] == [("Anna North", 1000.0), ("Olga South", 100.0)]


def test_a_where_naming_another_teams_person_is_refused(people):
    where = json.dumps([{"field": "owner", "op": "eq", "value": people["olga"].pk}])
    response = client_for(people["anna"]).get("/api/kpis/won_revenue/values/", {"where": where})
    assert response.status_code == 400 and "Olga" not in response.content.decode()
    assert "where[0].value" in response.json()["where"][0]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"every": "fortnight"}, "every"),
        ({"by": "planet"}, "by"),
        ({"from": "2024-13-01"}, "from"),
        ({"to": "3024-01-01"}, "to"),
        ({"from": "2024-03-01", "to": "2024-01-01"}, "to"),
        ({"from": "1900-01-01", "to": "2999-12-31", "every": "day"}, "every"),
        ({"where": "[{"}, "where"),
        ({"where": '{"field": "x"}'}, "where"),
        ({"where": '[{"field": "password", "op": "eq", "value": "x"}]'}, "where"),
        (
            {"where": '[{"field": "company", "op": "exists", "value": {"source": "deals", "link": "company", "when": "later"}}]'},
            "where",
        ),
    ],
)
def test_bad_parameters_are_400_with_a_message_per_parameter(people, params, field):
    response = client_for(people["director"]).get("/api/kpis/won_revenue/values/", params)
    assert response.status_code == 400, response.content
    assert list(response.json()) == [field] and response.json()[field]


def test_a_kpi_that_cannot_be_grouped_so_says_why(people):
    response = client_for(people["director"]).get("/api/kpis/won_revenue/values/", {"by": "product"})
    assert response.status_code == 400 and "cannot be grouped" in response.json()["by"][0]


# --------------------------------------------------------------------------- defining


def test_a_director_defines_changes_and_retires_a_kpi(people):
    client = client_for(people["director"])
    created = client.post("/api/kpis/", {"key": "won_count", "name": "Won count", "definition": WON_COUNT}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["version"] == 1 and Metric.objects.get(key="won_count").created_by == people["director"]
    renamed = client.patch("/api/kpis/won_count/", {"name": "Deals won"}, format="json")
    assert renamed.json()["version"] == 1 and renamed.json()["name"] == "Deals won"
    changed = client.patch("/api/kpis/won_count/", {"definition": {**WON_COUNT, "better": "lower"}}, format="json")
    assert changed.json()["version"] == 2
    assert client.delete("/api/kpis/won_count/").status_code == 204
    assert client.get("/api/kpis/won_count/").status_code == 404
    assert Metric.objects.filter(key="won_count").count() == 2  # versions stay for their targets


def test_a_definition_is_refused_with_the_builders_messages_and_nothing_is_saved(people):
    bad = {**WON_COUNT, "measure": {"kind": "sum", "field": "owner"}, "filters": [{"field": "password", "op": "eq", "value": 1}]}
    response = client_for(people["director"]).post(
        "/api/kpis/", {"key": "bad_one", "name": "Bad", "definition": bad}, format="json"
    )
    assert response.status_code == 400
    problems = response.json()["definition"]
    assert any(p.startswith("filters[0].field:") for p in problems)
    assert any(p.startswith("measure.field: Cannot sum 'owner'") for p in problems)
    assert not Metric.objects.filter(key="bad_one").exists()


def test_built_in_kpis_and_bad_keys_are_refused(people):
    client = client_for(people["director"])
    response = client.post("/api/kpis/", {"key": "won_revenue", "name": "Mine", "definition": WON_COUNT}, format="json")
    assert response.status_code == 400 and "built-in" in response.json()["key"][0]
    assert client.post("/api/kpis/", {"key": "Bad-Key", "name": "X", "definition": WON_COUNT}, format="json").status_code == 400
    assert client.patch("/api/kpis/won_revenue/", {"name": "Renamed"}, format="json").status_code == 400
    assert client.delete("/api/kpis/won_revenue/").status_code == 400
    assert Metric.objects.get(key="won_revenue", is_current=True).name != "Renamed"


def test_only_definers_define(people):
    response = client_for(people["anna"]).post(
        "/api/kpis/", {"key": "mine", "name": "Mine", "definition": WON_COUNT}, format="json"
    )
    assert response.status_code == 403 and "define KPIs" in response.json()["detail"]
    assert not Metric.objects.filter(key="mine").exists()


# --------------------------------------------------------------------------- targets


def test_targets_with_actual_attainment_pace_and_status_within_the_walls(people):
    revenue = Metric.objects.get(key="won_revenue", is_current=True)
    march = {"start": dt.date(2024, 3, 1), "end": dt.date(2024, 3, 31), "period": TargetPeriod.MONTH}
    Target.objects.create(metric=revenue, user=people["anna"], value=Decimal("1000"), **march)
    Target.objects.create(metric=revenue, user=people["olga"], value=Decimal("1000"), **march)
    Target.objects.create(metric=revenue, team=people["north"], value=Decimal("4000"), **march)
    Target.objects.create(metric=revenue, value=Decimal("9000"), **march)
    with clock_at(NOW, tick=False):
        anna = client_for(people["anna"]).get("/api/targets/", {"period": "month", "day": "2024-03-10"})
        boss = client_for(people["director"]).get("/api/targets/", {"day": "2024-03-10", "kpi": "won_revenue"})
    assert anna.status_code == 200
    rows = {(r["scope"], r["scope_name"]): r for r in anna.json()["results"]}
    assert set(rows) == {("person", "Anna North"), ("team", "North")}  # not South's, nor the company's
    mine = rows[("person", "Anna North")]
    assert (mine["target"], mine["actual"], mine["attainment"], mine["status"]) == (1000.0, 1000.0, 1.0, "met")
    assert mine["pace"] == pytest.approx(1 / (15.5 / 31))
    assert boss.json()["count"] == 4
    assert client_for(people["anna"]).get("/api/targets/", {"period": "week"}).status_code == 400


# --------------------------------------------------------------------------- versions


def test_v1_is_an_alias_of_the_api_and_the_schema_documents_it(people):
    client = client_for(people["anna"])
    assert resolve("/api/v1/kpis/").func.cls is resolve("/api/kpis/").func.cls
    assert client.get("/api/v1/kpis/won_revenue/").json() == client.get("/api/kpis/won_revenue/").json()
    assert client.get("/api/v1/deals/").status_code == client.get("/api/deals/").status_code == 200
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert "/api/v1/kpis/{key}/values/" in schema["paths"] and "/api/v1/targets/" in schema["paths"]
    assert not [path for path in schema["paths"] if not path.startswith("/api/v1/")]
    assert "KPI values and targets" in schema["info"]["description"]


@pytest.mark.parametrize(
    "where",
    [
        [{"field": "amount", "op": "gte", "value": "1e999999"}],
        [{"field": "amount", "op": "lt", "value": -1e308}],
        [{"field": "closed_at", "op": "gte", "value": "0001-01-01"}],
        [{"field": "closed_at", "op": "lte", "value": "9999-12-31T23:59:59+14:00"}],
        [{"field": "title", "op": "contains", "value": "\u0000"}],
        [{"field": "title", "op": "in", "value": ["a" * 10_000]}],
        [{"field": "owner", "op": "in", "value": [2**70]}],
        [{"field": "company", "op": "eq", "value": -(2**63) - 1}],
        [{"field": "amount", "op": "gte", "value": {"field": "closed_at"}}],
        [{"field": "closed_at", "op": "lte", "value": {"now": True}}],
    ],
)
def test_odd_where_values_are_answered_never_a_server_error(people, where):
    response = client_for(people["director"]).get("/api/kpis/won_revenue/values/", {"where": json.dumps(where)})
    assert response.status_code in (200, 400), response.content
