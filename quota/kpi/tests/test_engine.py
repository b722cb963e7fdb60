"""The engine's contract beyond the reference values: queries, scope, empty periods, comparisons, rejections."""

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from quota.accounts.models import Role, Team
from quota.bench.kpi import DASHBOARD_KPIS
from quota.crm.models import Deal
from quota.kpi.definitions import parse
from quota.kpi.engine import PREVIEW_KEY, GroupingNotSupported, Point, UnknownKpi, _plain_values, evaluate
from quota.testing.factories import CallFactory, CaseFactory, DealFactory, LeadFactory, UserFactory, loss_reason

pytestmark = pytest.mark.django_db

DASHBOARD = DASHBOARD_KPIS  # the director dashboard's KPIs, as the benchmark times them


def at(year, month, day, hour=12):
    return dt.datetime(year, month, day, hour, tzinfo=dt.UTC)


def won(owner, created, closed, amount="1000", rate="1", **fields):
    return DealFactory(
        owner=owner,
        created_at=created,
        status="won",
        closed_at=closed,
        amount=Decimal(amount),
        exchange_rate=Decimal(rate),
        **fields,
    )


def lost(owner, created, closed):
    return DealFactory(owner=owner, created_at=created, status="lost", closed_at=closed, loss_reason=loss_reason())


def company(people, months):
    """`people` reps with deals, leads and calls in each of `months` months of 2024."""
    reps = [UserFactory() for _ in range(people)]
    for rep in reps:
        for month in range(1, months + 1):
            won(rep, at(2024, month, 1), at(2024, month, 20))
            lost(rep, at(2024, month, 2), at(2024, month, 21))
            DealFactory(owner=rep, created_at=at(2024, month, 3))
            LeadFactory(owner=rep, created_at=at(2024, month, 4))
            CallFactory(owner=rep, occurred_at=at(2024, month, 5))
    return reps


def queries_for(kpis, **window):
    with CaptureQueriesContext(connection) as captured:
        evaluate(kpis, user=None, **window)
    return len(captured.captured_queries)


def test_queries_do_not_grow_with_rows_people_or_periods():
    window = {"start": dt.date(2024, 1, 1), "end": dt.date(2024, 12, 31), "every": "month", "by": "person"}
    company(people=1, months=2)
    few = queries_for(DASHBOARD, **window)
    company(people=6, months=12)
    many = queries_for(DASHBOARD, **window)
    daily = queries_for(DASHBOARD, **{**window, "every": "day"})
    assert few == many == daily
    # One grouped query per source and date field (7 here), the KPI lookup, the rollup check and the labels.
    assert many <= len(DASHBOARD) // 2 + 3


def test_one_kpi_is_one_grouped_query_plus_lookups():
    company(people=3, months=3)
    window = {"start": dt.date(2024, 1, 1), "end": dt.date(2024, 6, 30), "every": "month"}
    # The KPI itself, the rollup check (none are built) and, grouped, the labels: never per person or month.
    assert queries_for(["won_revenue"], **window, by="none") == 3
    assert queries_for(["won_revenue"], **window, by="person") == 4
    # Messages count for their campaign's owner: rolled up by that owner too, so the same check comes first.
    assert queries_for(["campaign_open_rate"], **window, by="none") == 3
    # Dated through a link (the offer's date): never rolled up, so there is nothing to check.
    assert queries_for(["quoted_value"], **window, by="none") == 2


def test_values_previous_period_and_last_year_come_from_the_same_query():
    rep = UserFactory()
    won(rep, at(2023, 3, 1), at(2023, 3, 10), amount="500")
    won(rep, at(2024, 2, 1), at(2024, 2, 10), amount="200", rate="0.5")
    won(rep, at(2024, 3, 1), at(2024, 3, 10), amount="300")
    result = evaluate(["won_revenue"], user=None, start=dt.date(2024, 3, 1), end=dt.date(2024, 4, 30), every="month")[
        "won_revenue"
    ]
    march, april = result.points
    assert (march.period, march.value, march.previous, march.last_year) == (dt.date(2024, 3, 1), 300, 100, 500)
    assert (april.period, april.value, april.previous, april.last_year) == (dt.date(2024, 4, 1), 0, 300, 0)


def test_empty_periods_are_zero_for_counts_and_none_for_rates():
    rep = UserFactory()
    won(rep, at(2024, 1, 1), at(2024, 1, 10))
    result = evaluate(["won_deals", "win_rate"], user=None, start=dt.date(2024, 1, 1), end=dt.date(2024, 3, 31), every="month")
    assert [p.value for p in result["won_deals"].points] == [1, 0, 0]
    assert [p.value for p in result["win_rate"].points] == [1.0, None, None]


def test_by_person_and_team_use_the_owner_and_the_owners_team():
    north, south = Team.objects.create(name="North"), Team.objects.create(name="South")
    anna, ben, cleo = (
        UserFactory(team=north, first_name="Anna"),
        UserFactory(team=north, first_name="Ben"),
        UserFactory(team=south),
    )
    for person, amount in ((anna, "100"), (ben, "200"), (cleo, "400")):
        won(person, at(2024, 1, 1), at(2024, 1, 5), amount=amount)
    won(None, at(2024, 1, 1), at(2024, 1, 6), amount="800")
    window = {"start": dt.date(2024, 1, 1), "end": dt.date(2024, 1, 31), "every": "month"}
    people = evaluate(["won_revenue"], user=None, by="person", **window)["won_revenue"]
    assert {p.group.id: p.value for p in people.points} == {anna.pk: 100, ben.pk: 200, cleo.pk: 400, None: 800}
    assert people.points[-1].group.label == "Unassigned"
    teams = evaluate(["won_revenue"], user=None, by="team", **window)["won_revenue"]
    assert {p.group.label: p.value for p in teams.points} == {"North": 300, "South": 400, "No team": 800}


def test_the_scope_is_what_the_user_may_see():
    north, south = Team.objects.create(name="North"), Team.objects.create(name="South")
    rep = UserFactory(team=north)
    colleague, other = UserFactory(team=north), UserFactory(team=south)
    director = UserFactory(team=None, role=Role.DIRECTOR)
    for person in (rep, colleague, other, None):
        won(person, at(2024, 1, 1), at(2024, 1, 5), amount="100")
    window = {"start": dt.date(2024, 1, 1), "end": dt.date(2024, 1, 31), "every": "none"}
    assert evaluate(["won_revenue"], user=rep, **window)["won_revenue"].points[0].value == 300  # own team and unassigned
    assert evaluate(["won_revenue"], user=director, **window)["won_revenue"].points[0].value == 400
    rep.is_active = False
    assert evaluate(["won_revenue"], user=rep, **window)["won_revenue"].points[0].value == 0


def test_a_grouping_that_makes_no_sense_is_refused_with_the_reason():
    with pytest.raises(GroupingNotSupported, match="Survey answers have no stage"):
        evaluate(["nps"], user=None, start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 31), by="stage")
    with pytest.raises(GroupingNotSupported, match="can only be grouped by source"):
        evaluate(["cac"], user=None, start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 31), by="person")


def test_an_unknown_kpi_suggests_close_keys():
    with pytest.raises(UnknownKpi, match="did you mean won_revenue"):
        evaluate(["won_revenu"], user=None, start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 31))


def test_results_say_when_they_were_computed():
    before = timezone.now()
    evaluation = evaluate(["won_deals"], user=None, start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 31))
    assert before <= evaluation.computed_at <= timezone.now()
    assert evaluation["won_deals"].computed_at == evaluation.computed_at


def test_sla_breaches_count_only_responses_already_due():
    now = timezone.now()
    rep = UserFactory()
    late = CaseFactory(owner=rep, created_at=now - dt.timedelta(hours=30), response_due_at=now - dt.timedelta(hours=6))
    CaseFactory(owner=rep, created_at=now - dt.timedelta(hours=1), response_due_at=now + dt.timedelta(hours=1))  # not due yet
    on_time = CaseFactory(owner=rep, created_at=now - dt.timedelta(hours=30), response_due_at=now - dt.timedelta(hours=5))
    on_time.first_response_at = now - dt.timedelta(hours=20)
    on_time.save()
    assert late.first_response_at is None
    today = timezone.localdate()
    result = evaluate(
        ["sla_breach_rate"], user=None, start=today - dt.timedelta(days=2), end=today + dt.timedelta(days=1), every="none"
    )
    assert result["sla_breach_rate"].points[0].value == 0.5


def test_a_definition_can_be_evaluated_without_saving_it():
    won(UserFactory(), at(2024, 1, 1), at(2024, 1, 5), amount="100")
    big = parse(
        {
            "source": "deals",
            "date": "closed_at",
            "filters": [{"field": "amount", "op": "gte", "value": 50}],
            "measure": {"kind": "count"},
            "unit": "count",
            "better": "higher",
        }
    )
    result = evaluate([big], user=None, start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 31), every="none")[PREVIEW_KEY]
    assert result.points[0].value == 1


def test_retention_over_a_custom_range_uses_the_range_before_it():
    rep = UserFactory()
    loyal, gone = DealFactory(owner=rep).company, DealFactory(owner=rep).company
    Deal.objects.all().delete()
    for customer in (loyal, gone):
        won(rep, at(2024, 1, 1), at(2024, 1, 10), company=customer)
    won(rep, at(2024, 2, 1), at(2024, 2, 15), company=loyal)
    window = {"start": dt.date(2024, 2, 1), "end": dt.date(2024, 2, 29), "every": "none"}
    result = evaluate(["retention_rate", "churn_rate"], user=None, **window)
    assert result["retention_rate"].points[0].value == 0.5
    assert result["churn_rate"].points[0].value == 0.5


@pytest.mark.parametrize("holes", [0, 1, 7, 12])
def test_plain_values_are_python_numbers_with_none_where_undefined(holes):
    """Few or many undefined values (placed one by one, or by numpy): the same plain list either way."""
    grid = np.arange(12, dtype=np.float64).reshape(3, 4) + 0.4
    grid.ravel()[:holes] = np.nan
    for whole in (False, True):
        out = _plain_values(grid, whole)
        expected = [None if i < holes else (round(i + 0.4) if whole else i + 0.4) for i in range(12)]
        assert out == expected
        assert all(type(v) is (int if whole else float) for v in out if v is not None)


def test_points_are_named_tuples():
    """Points are made with tuple.__new__ (in C, for speed): they must still be Points with their fields."""
    CallFactory(occurred_at=dt.datetime(2024, 2, 5, 10, tzinfo=dt.UTC))
    CallFactory(occurred_at=dt.datetime(2024, 1, 5, 10, tzinfo=dt.UTC))
    [point] = evaluate(["calls_made"], user=None, start=dt.date(2024, 2, 1), end=dt.date(2024, 2, 29))["calls_made"].points
    assert isinstance(point, Point) and point.period == dt.date(2024, 2, 1) and point.group is None
    assert (point.value, point.previous, point.last_year) == (1, 1, 0)
