"""The grouped queries: filters every leaf shares go to WHERE once (where a partial index can serve them), same numbers."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from quota.crm.models import Deal, Stage
from quota.forecasting.selectors import expected_close_metrics
from quota.kpi.definitions import Filter, Op, parse
from quota.kpi.engine import PREVIEW_KEY, evaluate
from quota.kpi.models import Metric
from quota.kpi.plans import Leaf
from quota.kpi.queries import shared_filters
from quota.kpi.sources import get_source
from quota.testing.factories import CallFactory, CompanyFactory, DealFactory, UserFactory, default_pipeline, loss_reason

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


def open_now_metrics() -> list[Metric]:
    """The open pipeline now (its deals, value and weighted value), read through the open deals only: counted by
    creation date up to the period's end, the open status a filter every leaf shares."""
    open_now = {"source": "deals", "date": "created_at", "filters": [{"field": "status", "op": "eq", "value": "open"}]}
    measures = [
        ("open_deals", {"kind": "count"}, "count"),
        ("pipeline_value", {"kind": "sum", "field": "amount"}, "money"),
        ("weighted_pipeline", {"kind": "sum", "field": "weighted_amount"}, "money"),
    ]
    return [
        Metric(
            key=key,
            name=key,
            definition={**open_now, "measure": {**measure, "cumulative": True}, "unit": unit, "better": "higher"},
        )
        for key, measure, unit in measures
    ]


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
    """The open pipeline by stage: `status = 'open'` is a plain WHERE condition (a partial index on open deals matches
    it)."""
    with CaptureQueriesContext(connection) as captured:
        values(kpis(), "stage")
    [sql] = [q["sql"] for q in captured.captured_queries if 'FROM "crm_deal"' in q["sql"]]
    where = sql[sql.index(" WHERE ") :]
    aggregates = sql[: sql.index(" FROM ")]
    assert '"crm_deal"."status" = ' in where and " OR " not in where
    assert '"status"' not in aggregates  # not repeated in every aggregate's FILTER


def per_record_weighted(stage_id, *expected_in):
    """The weighted amount summed record by record, as the source defines it for one deal (no grouping)."""
    rows = Deal.objects.filter(status="open", stage_id=stage_id)
    if expected_in:
        rows = rows.filter(expected_close_date__range=expected_in)
    total = rows.aggregate(total=Sum(get_source("deals").value("weighted_amount")))["total"]
    return float(total or 0)


def test_the_weighted_pipeline_by_stage_is_each_stage_amount_times_its_probability(pipeline):
    """Grouped by stage, a stage's weighted pipeline is its amounts' sum times its probability, read once per group:
    the same figures as weighing every deal (12 deals of whole and fractional amounts at two rates)."""
    with CaptureQueriesContext(connection) as captured:
        by_stage = values(kpis(), "stage")
    [sql] = [q["sql"] for q in captured.captured_queries if 'FROM "crm_deal"' in q["sql"]]
    assert 'MAX("crm_stage"."probability")' in sql
    assert '"crm_stage"."probability") / ' not in sql  # no deal weighed one by one
    march = (dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    for stage_id in by_stage["open_deals"]:
        assert by_stage["weighted_pipeline"][stage_id] == per_record_weighted(stage_id)
        assert by_stage["expected_weighted_pipeline"][stage_id] == per_record_weighted(stage_id, *march)
    assert all(by_stage["weighted_pipeline"].values())
    overall = values(kpis(), "none")  # not grouped by stage: every deal is weighed
    assert sum(by_stage["weighted_pipeline"].values()) == pytest.approx(overall["weighted_pipeline"][None], rel=1e-12)


@pytest.mark.parametrize("by", ["none", "person", "team"])
def test_the_weighted_pipeline_weighs_every_deal_where_groups_mix_stages(pipeline, by):
    with CaptureQueriesContext(connection) as captured:
        values(kpis(), by)
    sql = " ".join(q["sql"] for q in captured.captured_queries)
    assert '"crm_stage"."probability"' in sql and 'MAX("crm_stage"."probability")' not in sql


# --------------------------------------------------------------------------- walls: exists and links read what the user may


MAY = (dt.date(2024, 5, 1), dt.date(2024, 5, 31))


def may(day: int) -> dt.datetime:
    return dt.datetime(2024, 5, day, 12, tzinfo=dt.UTC)


def value_for(user, data) -> float | None:
    """The KPI's value for May 2024 as `user` sees the records."""
    start, end = MAY
    return evaluate([parse(data)], user=user, start=start, end=end, every="none")[PREVIEW_KEY].points[0].value


def south_probe(south_rep, threshold: int, op: str = "exists") -> dict:
    """The reported probe: my deals whose company has a South deal of at least `threshold`."""
    south_deals = {
        "source": "deals",
        "link": "company",
        "date": "created_at",
        "when": "later",
        "filters": [{"field": "owner", "op": "eq", "value": south_rep.pk}, {"field": "amount", "op": "gte", "value": threshold}],
    }
    return {
        "source": "deals",
        "filters": [{"field": "company", "op": op, "value": south_deals}],
        "measure": {"kind": "count"},
        "unit": "count",
        "better": "higher",
    }


@pytest.fixture
def shared_customer(people):
    """A North deal and a won South deal of 25,000 for the same company (as a match across teams once made)."""
    company = CompanyFactory(owner=people["rep"])
    DealFactory(owner=people["rep"], company=company, created_at=may(2))
    DealFactory(
        owner=people["south_rep"], company=company, status="won", amount=Decimal(25000), created_at=may(10), closed_at=may(12)
    )
    return company


@pytest.mark.parametrize("op", ["exists", "not_exists"])
def test_an_exists_sees_what_the_user_may_and_answers_as_if_the_rest_were_not_there(people, shared_customer, op):
    rep, south_rep, director = people["rep"], people["south_rep"], people["director"]
    thresholds = [0, 10000, 20000, 25000, 25001, 40000]
    seen_by_rep = [value_for(rep, south_probe(south_rep, t, op)) for t in thresholds]
    seen_by_director = [value_for(director, south_probe(south_rep, t, op)) for t in thresholds]
    assert seen_by_director != [seen_by_director[0]] * len(thresholds)  # the probe does find the South deal where visible

    Deal.objects.filter(owner=south_rep).delete()
    assert seen_by_rep == [value_for(rep, south_probe(south_rep, t, op)) for t in thresholds]
    assert seen_by_rep == [0 if op == "exists" else 1] * len(thresholds)


def test_a_nested_exists_is_walled_too(people, shared_customer):
    """An exists inside an exists's filters reads visible records only, at every depth."""
    rep, south_rep = people["rep"], people["south_rep"]
    inner = south_probe(south_rep, 20000)["filters"][0]
    outer = {"source": "deals", "link": "company", "date": "created_at", "when": "earlier", "filters": [inner]}
    data = {**south_probe(south_rep, 0), "filters": [{"field": "company", "op": "exists", "value": outer}]}
    DealFactory(owner=rep, company=shared_customer, created_at=may(20))  # an earlier North deal exists for it
    assert value_for(people["director"], data) == 2  # the later North deal and the South one
    assert value_for(rep, data) == 0


HIDDEN_AMOUNTS = [Decimal(1), Decimal(19999), Decimal(20000), Decimal(250000)]


@pytest.mark.parametrize(
    ("measure", "filters"),
    [
        ({"kind": "count"}, [{"field": "deal__amount", "op": "gte", "value": 20000}]),
        ({"kind": "count"}, [{"field": "deal__amount", "op": "ne", "value": 20000}]),
        ({"kind": "count"}, [{"field": "deal__amount", "op": "in", "value": [1, 20000]}]),
        ({"kind": "count"}, [{"field": "deal__business_type", "op": "eq", "value": "existing"}]),
        ({"kind": "sum", "field": "deal__amount"}, []),
        ({"kind": "distinct", "field": "deal__company"}, []),
    ],
    ids=["gte", "ne", "in", "business_type", "sum", "distinct"],
)
def test_a_link_to_a_record_the_user_may_not_see_tells_nothing_of_it(people, measure, filters):
    """The rep's call on a South deal: whatever that deal holds, the rep's KPI gives the same value."""
    rep, south_rep, director = people["rep"], people["south_rep"], people["director"]
    hidden = DealFactory(owner=south_rep, status="won", amount=Decimal(1), created_at=may(3), closed_at=may(4))
    CallFactory(owner=rep, deal=hidden, occurred_at=may(5))
    own = DealFactory(owner=rep, amount=Decimal(30000), created_at=may(3))
    CallFactory(owner=rep, deal=own, occurred_at=may(6))
    data = {"source": "activities", "filters": filters, "measure": measure, "unit": "count", "better": "higher"}
    seen_by_rep, seen_by_director = set(), set()
    for index, amount in enumerate(HIDDEN_AMOUNTS):
        business = "existing" if index % 2 else "new"
        company = own.company if index % 2 else CompanyFactory(owner=south_rep)
        Deal.objects.filter(pk=hidden.pk).update(amount=amount, business_type=business, company=company)
        seen_by_rep.add(value_for(rep, data))
        seen_by_director.add(value_for(director, data))
    assert len(seen_by_rep) == 1
    assert len(seen_by_director) > 1  # the same KPI does read the deal for whom it is visible
