"""KPI tables kept in the cache stay live: a write shows on the next evaluation, and nothing is shared between walls."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from quota.accounts.models import Role
from quota.core import dataversions
from quota.crm.models import Deal
from quota.crm.services import deal_close_won, deal_create
from quota.kpi import cache as kpi_cache
from quota.kpi.engine import evaluate
from quota.testing.factories import CallFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

WINDOW = {"start": dt.date(2024, 1, 1), "end": dt.date(2024, 3, 31), "every": "month"}


def at(month, day):
    return dt.datetime(2024, month, day, 10, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def kept(settings):
    settings.KPI_CACHE_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def reps():
    team, other_team = TeamFactory(), TeamFactory()
    reps = [UserFactory(team=team), UserFactory(team=other_team)]
    for rep in reps:
        deal = deal_create(by=None, title="d", owner=rep, amount=Decimal(100), created_at=at(1, 2))
        deal_close_won(deal=deal, by=None, at=at(2, 3))
    return reps


def won(user=None, kpis=("won_revenue",)):
    return {p.period: p.value for p in evaluate(list(kpis), user=user, **WINDOW)["won_revenue"].points}


def deal_queries(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "crm_deal" in q["sql"] and "MAX(" not in q["sql"]]


def test_asked_again_it_reads_no_records(reps):
    first = won()
    with CaptureQueriesContext(connection) as captured:
        assert won() == first
    assert not deal_queries(captured)


def test_a_win_shows_at_once(reps, django_capture_on_commit_callbacks):
    assert won()[dt.date(2024, 3, 1)] == 0
    with django_capture_on_commit_callbacks(execute=True):
        deal = deal_create(by=None, title="new", owner=reps[0], amount=Decimal(250), created_at=at(3, 1))
        deal_close_won(deal=deal, by=None, at=at(3, 5))
    assert won()[dt.date(2024, 3, 1)] == 250


def test_a_write_elsewhere_keeps_the_tables_that_do_not_read_it(reps, django_capture_on_commit_callbacks):
    won()
    with django_capture_on_commit_callbacks(execute=True):
        CallFactory(owner=reps[0], occurred_at=at(2, 2))  # calls are not deals
    with CaptureQueriesContext(connection) as captured:
        won()
    assert not deal_queries(captured)


def test_rows_an_import_inserts_are_read(reps, django_capture_on_commit_callbacks):
    from quota.imports.bulk import bulk_insert

    won()
    copied = Deal(title="copied", owner=reps[0], pipeline_id=1, stage_id=1, created_at=at(3, 1), amount=Decimal(40))
    copied.status, copied.closed_at = "won", at(3, 2)
    with django_capture_on_commit_callbacks(execute=True):
        bulk_insert(Deal, [copied])
    assert won()[dt.date(2024, 3, 1)] == 40


def test_people_behind_other_walls_get_their_own_figures(reps):
    mine, theirs = reps
    rep = UserFactory(role=Role.REP, team=mine.team)
    assert won()[dt.date(2024, 2, 1)] == 200  # everyone's, kept
    assert won(user=rep)[dt.date(2024, 2, 1)] == 100  # their team's, not the kept company figure
    assert won(user=UserFactory(role=Role.REP, team=theirs.team))[dt.date(2024, 2, 1)] == 100


def test_what_a_kpi_reads():
    from quota.accounts.models import Team, User
    from quota.crm.models import Stage
    from quota.kpi.models import Metric
    from quota.kpi.plans import plan

    weighted = Metric.objects.current().get(key="pipeline_value")
    read = set().union(*(kpi_cache.models_read(leaf) for leaf in plan(weighted.parsed).leaves))
    assert {Deal, User, Team} <= read
    # Every table a KPI reads has a version (core.dataversions): a write to any of them renews the figure.
    assert not {model._meta.db_table for model in {*read, Deal, Stage}} & dataversions.UNVERSIONED


def test_a_custom_field_change_renews_the_tables_grouped_by_it(reps, django_capture_on_commit_callbacks):
    """A grouping by a custom field is labelled and ordered by the field's definition: changing it renews them."""
    from quota.crm.models import CustomField

    field = CustomField.objects.create(target="deal", key="plan", label="Plan", field_type="choice", choices=["a", "b"])
    Deal.objects.update(custom={"plan": "a"})

    def groups():
        result = evaluate(["won_revenue"], user=None, by="custom.plan", **WINDOW)["won_revenue"]
        return sorted({p.group.label for p in result.points})

    assert groups() == ["a"]
    with django_capture_on_commit_callbacks(execute=True):
        Deal.objects.update(custom={"plan": "b"})  # a queryset update sends no signal: only the field's save renews
        field.label = "Plan name"
        field.save()
    assert groups() == ["b"]
    from quota.kpi.models import Metric
    from quota.kpi.plans import plan

    leaf = next(iter(plan(Metric.objects.current().get(key="won_revenue").parsed).leaves))
    assert CustomField in kpi_cache.models_read(leaf, "custom.plan") and CustomField not in kpi_cache.models_read(leaf)


@pytest.mark.parametrize("by", ["none", "person"])
def test_kpis_of_two_sources_are_kept_apart_and_read_as_one(reps, by, settings, django_capture_on_commit_callbacks):
    """A call logged renews the calls' figures; the deals' beside them stay kept, and together they are what one
    evaluation without the cache gives."""
    kpis = ["won_revenue", "calls_made"]

    def both():
        result = evaluate(kpis, user=None, by=by, **WINDOW)
        return {(key, p.period, p.group.id if p.group else None): p.value for key in kpis for p in result[key].points}

    CallFactory(owner=reps[1], occurred_at=at(1, 9))
    both()
    with django_capture_on_commit_callbacks(execute=True):
        CallFactory(owner=reps[0], occurred_at=at(2, 2))
    with CaptureQueriesContext(connection) as captured:
        kept_apart = both()
    assert not deal_queries(captured)
    assert kept_apart[("calls_made", dt.date(2024, 2, 1), reps[0].pk if by == "person" else None)] == 1
    settings.KPI_CACHE_SECONDS = 0
    assert kept_apart == both()
