"""The service board's open cases and the sales board's funnel, losses by reason and lead sources are rolled up like
saved KPIs, and read from rollups give what the records give."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from quota.crm.models import Stage
from quota.crm.services import deal_close_lost, deal_close_won, deal_move_stage
from quota.dashboards.boards import MARKETING_SOURCE_KPIS, SOURCE_KPIS, source_split_metrics
from quota.dashboards.cards import company_today
from quota.dashboards.periods import PeriodKey, named_period
from quota.dashboards.selectors.sales import by_source, lost_by_reason_metrics, open_by_stage_metrics
from quota.dashboards.selectors.service import open_cases_metric
from quota.kpi import rollups
from quota.kpi.engine import evaluate
from quota.kpi.plans import plan
from quota.service.models import CaseStatus
from quota.testing.factories import CaseFactory, DealFactory, LeadFactory, lead_source, loss_reason

pytestmark = pytest.mark.django_db


def open_cases(client, user) -> int:
    client.force_login(user)
    cards = client.get("/dashboards/service/").context["cards"]
    return next(card for card in cards if card.key == "open_cases").value


def test_the_open_cases_card_reads_rollups_that_writes_keep_current(client, world, django_capture_on_commit_callbacks):
    now = timezone.now()
    leaves = {leaf.key for leaf in plan(open_cases_metric().parsed).leaves}
    assert leaves <= {leaf.key for leaf in rollups.rollup_leaves()}
    CaseFactory(owner=world.agent, created_at=now - dt.timedelta(days=400))
    CaseFactory(owner=world.agent, created_at=now - dt.timedelta(hours=5))
    resolved = CaseFactory(owner=world.agent, created_at=now - dt.timedelta(days=2))
    rollups.rebuild()
    assert leaves <= rollups.fresh_leaves(rollups.rollup_leaves(), "default").keys()
    with django_capture_on_commit_callbacks(execute=True):  # a write through the ORM refreshes them
        resolved.status, resolved.resolved_at = CaseStatus.RESOLVED, now - dt.timedelta(hours=1)
        resolved.save()
    assert leaves <= rollups.fresh_leaves(rollups.rollup_leaves(), "default").keys()
    from_rollups = open_cases(client, world.director)
    with rollups.bypassed():
        from_records = open_cases(client, world.director)
    assert from_rollups == from_records == 2


def funnel(client, user) -> list[tuple[int, int, float, float]]:
    client.force_login(user)
    steps = client.get("/dashboards/sales/").context["funnel"].steps
    return [(step.stage_id, step.deals, step.value, step.weighted) for step in steps]


def test_the_funnel_reads_rollups_that_writes_keep_current(client, world, django_capture_on_commit_callbacks):
    now = timezone.now()
    first, second, *_ = Stage.objects.filter(pipeline__is_default=True).order_by("position")
    leaves = {leaf.key for metric in open_by_stage_metrics() for leaf in plan(metric.parsed).leaves}
    assert leaves <= {leaf.key for leaf in rollups.rollup_leaves()}  # two per stage: its open deals, their value
    DealFactory(owner=world.rep, amount=Decimal("100.00"), created_at=now - dt.timedelta(days=400))
    moving = DealFactory(owner=world.south_rep, amount=Decimal("250.50"), created_at=now - dt.timedelta(days=2))
    won = DealFactory(owner=world.rep, amount=Decimal("999.00"), created_at=now - dt.timedelta(days=3))
    rollups.rebuild()
    with django_capture_on_commit_callbacks(execute=True):  # writes through the ORM refresh them
        deal_move_stage(deal=moving, stage=second, by=world.south_rep)
        deal_close_won(deal=won, by=world.rep)
    assert leaves <= rollups.fresh_leaves(rollups.rollup_leaves(), "default").keys()
    from_rollups = funnel(client, world.director)
    with rollups.bypassed():
        from_records = funnel(client, world.director)
    expected = [
        (first.pk, 1, 100.0, pytest.approx(100.0 * first.probability / 100)),
        (second.pk, 1, 250.5, pytest.approx(250.5 * second.probability / 100)),
    ]
    assert from_rollups == from_records == expected
    assert funnel(client, world.rep) == [expected[0]]  # a rep's rollups are their team's, as the records are


def outcomes(client, user) -> list[tuple[str, int, bool]]:
    client.force_login(user)
    section = client.get("/dashboards/sales/").context["outcomes"]
    return [(outcome.label, outcome.deals, outcome.won) for outcome in section.outcomes]


def test_losses_by_reason_read_rollups_that_writes_keep_current(client, world, django_capture_on_commit_callbacks):
    now = timezone.now()
    price, timing = loss_reason("Price too high"), loss_reason("Timing")
    leaves = {leaf.key for metric in lost_by_reason_metrics() for leaf in plan(metric.parsed).leaves}
    assert leaves <= {leaf.key for leaf in rollups.rollup_leaves()}  # one per reason: the deals lost for it
    deals = [DealFactory(owner=owner, created_at=now - dt.timedelta(days=1)) for owner in (world.rep, world.rep, world.south_rep)]
    rollups.rebuild()
    with django_capture_on_commit_callbacks(execute=True):  # writes through the ORM refresh them
        deal_close_lost(deal=deals[0], by=world.rep, reason=price)
        deal_close_lost(deal=deals[1], by=world.rep, reason=timing)
        deal_close_lost(deal=deals[2], by=world.south_rep, reason=price)
    assert leaves <= rollups.fresh_leaves(rollups.rollup_leaves(), "default").keys()
    from_rollups = outcomes(client, world.director)
    with rollups.bypassed():
        from_records = outcomes(client, world.director)
    assert from_rollups == from_records == [("Won", 0, True), ("Price too high", 2, False), ("Timing", 1, False)]
    assert outcomes(client, world.rep) == [("Won", 0, True), ("Price too high", 1, False), ("Timing", 1, False)]


# A source without records for a KPI: no leads is 0 leads and no revenue 0, as for any count or sum; a rate of nothing,
# or a cost without new customers, is undefined. (Grouped by source, such a source is not among the KPI's groups.)
EMPTY = {"new_leads": 0, "won_revenue": 0.0, "lead_conversion_rate": None, "cac": None}


def by_source_rows(user, keys, period):
    return [(row.source_id, row.label, row.values) for row in by_source(keys, user=user, period=period).rows]


def test_lead_sources_read_rollups_and_give_each_source_what_grouping_by_source_gives(world, django_capture_on_commit_callbacks):
    now = timezone.now()
    period = named_period(PeriodKey.THIS_MONTH, company_today(now))
    web, fair = lead_source("website"), lead_source("fair")
    leaves = {leaf.key for metric in source_split_metrics() for leaf in plan(metric.parsed).leaves}
    assert leaves and leaves <= {leaf.key for leaf in rollups.rollup_leaves()}
    for source, owner, converted in [(web, world.rep, True), (web, world.south_rep, False), (fair, world.rep, False)]:
        LeadFactory(
            owner=owner,
            source=source,
            created_at=now,
            status="converted" if converted else "new",
            converted_at=now if converted else None,
        )
    won = [DealFactory(owner=world.rep, source=web, amount=Decimal("300.00")), DealFactory(owner=world.south_rep, source=None)]
    rollups.rebuild()
    with django_capture_on_commit_callbacks(execute=True):  # writes through the ORM refresh them
        for deal in won:
            deal_close_won(deal=deal, by=deal.owner)
        LeadFactory(owner=world.south_rep, source=fair, created_at=now)
    assert leaves <= rollups.fresh_leaves(rollups.rollup_leaves(), "default").keys()
    for user in (world.director, world.rep):
        for keys in (SOURCE_KPIS, MARKETING_SOURCE_KPIS):  # the cost of a customer is grouped by source, not split
            from_rollups = by_source_rows(user, keys, period)
            with rollups.bypassed():
                from_records = by_source_rows(user, keys, period)
            grouped = evaluate(keys, user=user, start=period.start, end=period.end, every="none", by="source", compare=False)
            expected = {(point.group.id, point.group.label): {} for result in grouped for point in result.points if point.group}
            for result in grouped:
                for point in result.points:
                    expected[(point.group.id, point.group.label)][result.key] = point.value
            assert from_rollups == from_records
            assert {(key, label): values for key, label, values in from_rollups} == {
                group: {key: values.get(key, EMPTY[key]) for key in keys} for group, values in expected.items()
            }
    director = {label: values for _key, label, values in by_source_rows(world.director, SOURCE_KPIS, period)}
    assert director["Website"] == {"new_leads": 2, "lead_conversion_rate": 0.5, "won_revenue": 300.0}
    assert director["Fair"] == {"new_leads": 2, "lead_conversion_rate": 0.0, "won_revenue": 0}
    assert director["No source"] == {"new_leads": 0, "lead_conversion_rate": None, "won_revenue": 1000.0}  # a deal's is optional
