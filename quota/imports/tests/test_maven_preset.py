"""The Maven CRM sample imported with its preset, every figure checked against pandas over the CSVs.

The import runs once for the module (twice: the second run must create nothing) inside a
transaction that is rolled back at the end, so the other test modules never see it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from io import StringIO

import pandas as pd
import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Avg, Count, F, Sum
from django.db.models.functions import TruncQuarter
from django.test import override_settings

from quota.accounts.models import Role, Team, User
from quota.crm.models import Company, CustomField, Deal, DealStageChange, LossReason, Pipeline, Stage
from quota.imports.engine import ImportOptions
from quota.imports.models import ImportRun
from quota.imports.report import render_text
from quota.imports.services import import_preset
from quota.imports.tests.helpers import MAVEN_DIR, groups, rows_with
from quota.sales.models import Product

pytestmark = pytest.mark.django_db

COUNTED = {
    "deals": Deal,
    "history": DealStageChange,
    "companies": Company,
    "users": User,
    "teams": Team,
    "products": Product,
    "pipelines": Pipeline,
    "stages": Stage,
    "loss reasons": LossReason,
    "custom fields": CustomField,
}


def counts() -> dict[str, int]:
    return {name: model._default_manager.count() for name, model in COUNTED.items()}


@dataclass
class Imported:
    first: object
    second: object
    before: dict[str, int]
    after_first: dict[str, int]
    after_second: dict[str, int]


@pytest.fixture(scope="module")
def maven(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(QUOTA_CURRENCY="USD"), transaction.atomic():
        before = counts()
        first = import_preset("maven-crm", MAVEN_DIR, options=ImportOptions())
        after_first = counts()
        second = import_preset("maven-crm", MAVEN_DIR, options=ImportOptions())
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # what autovacuum does after a commit; without it the joins below crawl
        yield Imported(first, second, before, after_first, counts())
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def csv():
    pipeline = pd.read_csv(MAVEN_DIR / "sales_pipeline.csv")
    teams = pd.read_csv(MAVEN_DIR / "sales_teams.csv")
    accounts = pd.read_csv(MAVEN_DIR / "accounts.csv")
    won = pipeline[pipeline.deal_stage == "Won"].merge(teams, on="sales_agent", how="left")
    return {"pipeline": pipeline, "teams": teams, "accounts": accounts, "won": won}


def maven_deals():
    return Deal.objects.filter(pipeline__name="Maven")


def won_deals():
    return maven_deals().filter(status="won")


def as_ints(series: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in series.items()}


def test_the_import_commits_and_is_recorded(maven):
    assert maven.first.ok, maven.first.reason
    assert maven.first.status == "committed"
    assert ImportRun.objects.filter(preset="maven-crm", status="committed").count() == 2


def test_deal_counts_by_outcome_match_the_file(maven, csv):
    stages = csv["pipeline"].deal_stage.value_counts()
    by_status = dict(maven_deals().values_list("status").annotate(n=Count("id")))
    assert maven_deals().count() == len(csv["pipeline"]) == 8800
    assert by_status["won"] == stages["Won"] == 4238
    assert by_status["lost"] == stages["Lost"] == 2473
    # Open means still in the pipeline: 1,589 Engaging plus 500 Prospecting.
    assert by_status["open"] == stages["Engaging"] + stages["Prospecting"] == 2089
    open_by_stage = dict(maven_deals().filter(status="open").values_list("stage__name").annotate(n=Count("id")))
    assert open_by_stage == {"Engaging": stages["Engaging"], "Prospecting": stages["Prospecting"]}


def test_won_revenue_and_win_rate(maven, csv):
    pipeline = csv["pipeline"]
    total = won_deals().aggregate(total=Sum("amount"))["total"]
    assert total == Decimal(int(csv["won"].close_value.sum())) == Decimal(10005534)
    closed = maven_deals().exclude(status="open").count()
    expected_rate = (pipeline.deal_stage == "Won").sum() / pipeline.deal_stage.isin(["Won", "Lost"]).sum()
    assert won_deals().count() / closed == pytest.approx(expected_rate)
    assert round(100 * won_deals().count() / closed, 2) == 63.15


def test_won_revenue_per_agent(maven, csv):
    per_agent = won_deals().values("owner__first_name", "owner__last_name").annotate(total=Sum("amount"))
    imported = {f"{r['owner__first_name']} {r['owner__last_name']}": int(r["total"]) for r in per_agent}
    assert imported == as_ints(csv["won"].groupby("sales_agent").close_value.sum())


def test_won_revenue_per_manager(maven, csv):
    manager_of_team = {
        team_id: f"{first} {last}"
        for team_id, first, last in User.objects.filter(role=Role.MANAGER).values_list("team_id", "first_name", "last_name")
    }
    per_team = won_deals().values("owner__team").annotate(total=Sum("amount"))
    imported = {manager_of_team[r["owner__team"]]: int(r["total"]) for r in per_team}
    assert imported == as_ints(csv["won"].groupby("manager").close_value.sum())


def test_won_revenue_per_regional_office(maven, csv):
    per_office = won_deals().values("owner__team__parent__name").annotate(total=Sum("amount"))
    imported = {r["owner__team__parent__name"]: int(r["total"]) for r in per_office}
    assert imported == as_ints(csv["won"].groupby("regional_office").close_value.sum())


def test_average_sales_cycle_of_won_deals(maven, csv):
    cycle = won_deals().aggregate(cycle=Avg(F("closed_at") - F("created_at")))["cycle"]
    won = csv["won"]
    expected = (pd.to_datetime(won.close_date) - pd.to_datetime(won.engage_date)).dt.days.mean()
    assert cycle.total_seconds() / 86400 == pytest.approx(expected, abs=1e-6)
    assert round(expected, 2) == 51.78


def test_won_revenue_per_quarter(maven, csv):
    per_quarter = won_deals().annotate(quarter=TruncQuarter("closed_at")).values("quarter").annotate(total=Sum("amount"))
    imported = {f"{r['quarter'].year}Q{(r['quarter'].month - 1) // 3 + 1}": int(r["total"]) for r in per_quarter}
    won = csv["won"]
    expected = won.groupby(pd.to_datetime(won.close_date).dt.to_period("Q").astype(str)).close_value.sum()
    assert imported == as_ints(expected)


def test_every_deal_has_the_stage_history_its_dates_give(maven):
    closed = maven_deals().exclude(status="open")
    history = DealStageChange.objects.filter(deal__pipeline__name="Maven")
    assert history.count() == maven_deals().count() + closed.count()
    opened = history.filter(
        from_stage__isnull=True, to_status="open", changed_at=F("deal__created_at"), to_stage=F("deal__stage")
    )
    assert opened.count() == maven_deals().count()
    closing = history.filter(from_status="open", to_status=F("deal__status"), changed_at=F("deal__closed_at"))
    assert closing.count() == closed.count()


def test_dates_and_values_of_one_deal(maven):
    deal = Deal.objects.select_related("owner", "company", "stage").get(external_id="Z063OYW0")
    # Z063OYW0,Darcel Schlecht,GTXPro,Isdom,Won,2016-10-25,2017-03-11,4514
    assert (deal.owner.get_full_name(), deal.company.name, deal.stage.name, deal.status) == (
        "Darcel Schlecht",
        "Isdom",
        "Engaging",
        "won",
    )
    assert (deal.created_at.date().isoformat(), deal.closed_at.date().isoformat(), deal.amount) == (
        "2016-10-25",
        "2017-03-11",
        Decimal("4514"),
    )
    assert deal.custom == {"product": "GTX Pro"} and deal.title == "GTX Pro for Isdom" and deal.currency == "USD"


def test_people_teams_companies_and_products(maven, csv):
    teams = csv["teams"]
    offices = Team.objects.filter(parent__isnull=True, name__in=teams.regional_office.unique())
    assert offices.count() == teams.regional_office.nunique() == 3
    assert Team.objects.filter(parent__in=offices).count() == teams.manager.nunique() == 6
    assert User.objects.filter(role=Role.MANAGER).count() == teams.manager.nunique()
    reps = User.objects.filter(role=Role.REP)
    assert reps.count() == teams.sales_agent.nunique() == 35
    assert not any(u.has_usable_password() for u in User.objects.filter(role__in=[Role.MANAGER, Role.REP]))
    darcel = User.objects.get(first_name="Darcel", last_name="Schlecht")
    assert (darcel.team.name, darcel.team.parent.name) == ("Melvin Marxen", "Central")
    manager = User.objects.get(first_name="Melvin", last_name="Marxen")
    assert maven_deals().visible_to(manager).filter(owner=darcel).exists()
    assert not maven_deals().visible_to(manager).filter(owner__team__parent__name="East").exists()

    acme = Company.objects.get(name="Bluth Company")
    assert (acme.industry, acme.annual_revenue, acme.employees) == ("technology", Decimal("1242320000.00"), 3027)
    assert acme.custom == {"year_established": 1993, "subsidiary_of": "Acme Corporation"}
    assert Company.objects.get(name="Bioholding").country == "Philippines"
    assert Company.objects.filter(industry="technolgy").count() == 0
    assert Product.objects.get(name="GTX Pro").price == Decimal("4821") and Product.objects.get(name="GTX Pro").series == "GTX"


def test_faults_in_the_file_are_reported(maven, csv):
    report, pipeline, teams = maven.first, csv["pipeline"], csv["teams"]
    # the product spelled differently in the pipeline than in the product list
    (fixed,) = groups(report, "value_fixed", step="deals", column="product")
    assert dict(fixed.values) == {"GTXPro -> GTX Pro": int((pipeline["product"] == "GTXPro").sum())}
    # blank accounts, all on open deals
    blank_accounts = pipeline.account.isna()
    assert not pipeline[blank_accounts].deal_stage.isin(["Won", "Lost"]).any()
    assert rows_with(report, "blank_reference", step="deals", column="account") == blank_accounts.sum() == 1425
    assert maven_deals().filter(company__isnull=True).count() == blank_accounts.sum()
    # blank dates and values where the stage has none yet
    still_open = pipeline.deal_stage.isin(["Prospecting", "Engaging"])
    assert rows_with(report, "blank_until_closed", step="deals", column="close_date") == still_open.sum()
    assert rows_with(report, "blank_until_closed", step="deals", column="close_value") == still_open.sum()
    # misspelled sector and country names
    (sector,) = groups(report, "value_fixed", step="accounts", column="sector")
    assert dict(sector.values) == {"technolgy -> technology": int((csv["accounts"].sector == "technolgy").sum())}
    (country,) = groups(report, "value_fixed", step="accounts", column="office_location")
    assert dict(country.values) == {"Philipines -> Philippines": 1}
    # agents with no deals
    (idle,) = groups(report, "unreferenced", step="sales agents")
    assert set(idle.values) == set(teams.sales_agent) - set(pipeline.sales_agent)
    assert set(idle.values) == {"Carl Lin", "Carol Thompson", "Elizabeth Anderson", "Mei-Mei Johns", "Natalya Ivanova"}
    # lost deals without a loss reason get a clearly named one
    lost = (pipeline.deal_stage == "Lost").sum()
    assert rows_with(report, "default_used", step="deals", column="loss_reason") == lost
    assert maven_deals().filter(status="lost", loss_reason__name="Not recorded (imported)").count() == lost
    # prospecting deals have no engage date: created on the data's as-of date, the latest date in the file
    no_engage = pipeline.engage_date.isna()
    assert rows_with(report, "default_used", step="deals", column="engage_date") == no_engage.sum() == 500
    as_of = max(pd.to_datetime(pipeline.engage_date).max(), pd.to_datetime(pipeline.close_date).max()).date()
    prospecting = maven_deals().filter(stage__name="Prospecting")
    assert set(prospecting.values_list("created_at__date", flat=True)) == {as_of}
    assert not groups(report, "invalid_record") and not groups(report, "not_found")


def test_the_report_reads_well_as_text_and_json(maven):
    text = render_text(maven.first)
    assert "committed" in text and "GTXPro -> GTX Pro (1,480)" in text and "Carl Lin" in text
    data = json.loads(json.dumps(maven.first.as_dict()))
    assert data["totals"]["created"] == sum(s["created"] for s in data["steps"])
    assert data["steps"][-1] == {**data["steps"][-1], "name": "deals", "rows": 8800, "created": 8800}


def test_a_second_import_creates_nothing_new(maven):
    assert maven.second.ok
    assert maven.second.totals()["created"] == 0 and maven.second.totals()["updated"] == 0
    assert maven.after_second == maven.after_first
    assert maven.second.step("deals").counts["skipped"] == 8800
    assert maven.after_first["deals"] - maven.before["deals"] == 8800


# -- the published figures through the KPI engine (`quota kpi eval`), not through ORM aggregates ---------


def kpi_eval(key: str, *, every: str = "none", by: str = "none") -> list[dict]:
    out = StringIO()
    call_command(
        "kpi",
        "eval",
        key,
        "--from",
        "2016-10-01",
        "--to",
        "2017-12-31",
        "--every",
        every,
        "--by",
        by,
        "--format",
        "json",
        stdout=out,
    )
    return json.loads(out.getvalue())


def by_group(rows: list[dict]) -> dict[str, float]:
    return {row["group"]: row["value"] for row in rows if row["value"]}


def test_the_kpi_engine_gives_the_published_totals(maven, csv):
    (won_revenue,) = kpi_eval("won_revenue")
    assert won_revenue["value"] == 10005534
    (win_rate,) = kpi_eval("win_rate")
    assert round(100 * win_rate["value"], 2) == 63.15
    (cycle,) = kpi_eval("sales_cycle_days")
    assert round(cycle["value"], 2) == 51.78
    (won,) = kpi_eval("won_deals")
    (lost,) = kpi_eval("lost_deals")
    assert (won["value"], lost["value"]) == (4238, 2473)
    (average,) = kpi_eval("avg_deal_value")
    assert average["value"] == pytest.approx(10005534 / 4238, abs=0.01)


def test_the_kpi_engine_gives_won_revenue_per_agent_manager_and_office(maven, csv):
    won = csv["won"]
    per_agent = by_group(kpi_eval("won_revenue", by="person"))
    assert {name: int(value) for name, value in per_agent.items()} == as_ints(won.groupby("sales_agent").close_value.sum())

    per_team = by_group(kpi_eval("won_revenue", by="team"))
    team_of_manager = {t.name: t for t in Team.objects.filter(parent__isnull=False).select_related("parent")}
    manager_by_team = {
        team.name: f"{first} {last}"
        for team in team_of_manager.values()
        for first, last in User.objects.filter(role=Role.MANAGER, team=team).values_list("first_name", "last_name")
    }
    assert {manager_by_team[team]: int(value) for team, value in per_team.items()} == as_ints(
        won.groupby("manager").close_value.sum()
    )
    per_office: dict[str, int] = {}
    for team, value in per_team.items():
        office = team_of_manager[team].parent.name
        per_office[office] = per_office.get(office, 0) + int(value)
    assert per_office == {"Central": 3346293, "East": 3090594, "West": 3568647}


def test_the_kpi_engine_gives_won_revenue_per_quarter(maven, csv):
    per_quarter = {row["period"]: int(row["value"]) for row in kpi_eval("won_revenue", every="quarter")}
    assert per_quarter == {
        "2016-10-01": 0,
        "2017-01-01": 1134672,
        "2017-04-01": 3086111,
        "2017-07-01": 2982255,
        "2017-10-01": 2802496,
    }
