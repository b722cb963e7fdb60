"""The grouped queries: filters every leaf shares go to WHERE once (where a partial index can serve them), same numbers."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from quota.crm.models import Stage
from quota.dashboards.selectors.sales import open_now_metrics
from quota.forecasting.selectors import expected_close_metrics
from quota.kpi.definitions import Filter, Op
from quota.kpi.engine import evaluate
from quota.kpi.plans import Leaf
from quota.kpi.queries import shared_filters
from quota.testing.factories import DealFactory, UserFactory, default_pipeline, loss_reason

pytestmark = pytest.mark.django_db

OPEN = Filter("status", Op.EQ, "open")
WON = Filter("status", Op.EQ, "won")
SOON = Filter("expected_close_date", Op.LTE, "2024-03-31")


def leaf(*filters: Filter) -> Leaf:
    return Leaf("deals", "created_at", "owner", "count", filters=filters)


def test_shared_filters_are_those_every_leaf_has():
    assert shared_filters([leaf(OPEN, SOON), leaf(OPEN)]) == (OPEN,)
    assert shared_filters([leaf(OPEN), leaf(WON)]) == ()
    assert shared_filters([leaf(OPEN, SOON)]) == (OPEN, SOON)
    assert shared_filters([]) == ()
    exists = Filter("company", Op.NOT_EXISTS, None)
    assert shared_filters([leaf(OPEN, exists), leaf(OPEN, exists)]) == (OPEN,)  # EXISTS may depend on the window


@pytest.fixture
def pipeline():
    """Open deals in two stages, some expected to close in March 2024, and closed deals the open ones must not count."""
    reps = [UserFactory(), UserFactory()]
    stages = list(Stage.objects.filter(pipeline=default_pipeline()).order_by("position"))[:2]
    created = dt.datetime(2024, 1, 15, 9, tzinfo=dt.UTC)
    for index in range(12):
        DealFactory(
            owner=reps[index % 2],
            stage=stages[index % 2],
            amount=Decimal(100 + index),
            exchange_rate=Decimal("1.5") if index % 3 else Decimal(1),
            created_at=created + dt.timedelta(days=index),
            expected_close_date=dt.date(2024, 3, 1 + index) if index % 4 else None,
        )
    closed = created + dt.timedelta(days=40)
    DealFactory(owner=reps[0], stage=stages[0], status="won", amount=Decimal(999), created_at=created, closed_at=closed)
    DealFactory(
        owner=reps[1],
        stage=stages[1],
        status="lost",
        loss_reason=loss_reason("Price too high"),
        created_at=created,
        closed_at=closed,
    )
    return reps


def kpis():
    return [*open_now_metrics(), *expected_close_metrics(dt.date(2024, 3, 1), dt.date(2024, 3, 31))]


def values(metrics, by):
    evaluation = evaluate(
        metrics, user=None, start=dt.date(2024, 3, 1), end=dt.date(2024, 3, 31), every="none", by=by, compare=False
    )
    return {result.key: {(p.group.id if p.group else None): p.value for p in result.points} for result in evaluation}


@pytest.mark.parametrize("by", ["none", "stage", "person", "team"])
def test_leaves_computed_together_equal_each_computed_alone(pipeline, by):
    together = values(kpis(), by)
    for metric in kpis():
        assert values([metric], by)[metric.key] == together[metric.key], metric.key
    assert together["open_deals"]  # the fixture's open deals are counted
    total = sum(together["open_deals"].values())
    assert total == 12


def test_the_open_pipeline_is_filtered_once_in_where(pipeline):
    """The funnel's query: `status = 'open'` is a plain WHERE condition (a partial index on open deals matches it)."""
    with CaptureQueriesContext(connection) as captured:
        values(kpis(), "stage")
    [sql] = [q["sql"] for q in captured.captured_queries if 'FROM "crm_deal"' in q["sql"]]
    where = sql[sql.index(" WHERE ") :]
    aggregates = sql[: sql.index(" FROM ")]
    assert '"crm_deal"."status" = ' in where and " OR " not in where
    assert '"status"' not in aggregates  # not repeated in every aggregate's FILTER
