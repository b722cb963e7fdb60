"""The lifecycle KPIs read rollups over companies, and every path that writes a lifecycle keeps them right."""

import datetime as dt
from decimal import Decimal

import pytest

from quota.crm.models import ChurnReason, Company
from quota.crm.services import company_churn, company_reactivate, deal_close_won, deal_create
from quota.kpi import rollups
from quota.kpi.engine import evaluate
from quota.testing.factories import CompanyFactory, UserFactory

pytestmark = pytest.mark.django_db

KPIS = ["active_customers", "churned_customers", "customer_churn_rate_lifecycle", "customer_retention_rate_lifecycle"]
WINDOW = {"start": dt.date(2024, 1, 1), "end": dt.date(2024, 6, 30), "every": "month"}


def values(by: str) -> dict:
    evaluation = evaluate(KPIS, user=None, by=by, **WINDOW)
    return {r.key: [(p.period, p.group and p.group.id, p.value, p.previous) for p in r.points] for r in evaluation}


def assert_same_as_records() -> None:
    for by in ("none", "person"):
        from_rollups = values(by)
        with rollups.bypassed():
            assert from_rollups == values(by)


def test_wins_churns_and_reactivations_keep_the_rollups_right(django_capture_on_commit_callbacks):
    rep = UserFactory()
    reason = ChurnReason.objects.get(key="price")
    old = CompanyFactory(owner=rep, customer_since=dt.date(2023, 5, 1))
    new = CompanyFactory(owner=rep)
    rollups.rebuild()
    assert rollups.all_fresh() and any(leaf.source == "companies" for leaf in rollups.rollup_leaves())
    with django_capture_on_commit_callbacks(execute=True):
        deal = deal_create(
            by=None, title="First", owner=rep, company=new, amount=Decimal(10), created_at=dt.datetime(2024, 1, 3, tzinfo=dt.UTC)
        )
        deal_close_won(deal=deal, by=None, at=dt.datetime(2024, 2, 10, 12, tzinfo=dt.UTC))
        company_churn(company=old, by=None, on=dt.date(2024, 3, 15), reason=reason)
    assert rollups.all_fresh()
    assert Company.objects.get(pk=new.pk).customer_since == dt.date(2024, 2, 10)
    assert_same_as_records()
    march = evaluate(KPIS, user=None, start=dt.date(2024, 3, 1), end=dt.date(2024, 3, 31), every="month")
    assert [march[key].points[0].value for key in KPIS] == [1, 1, 0.5, 0.5]
    with django_capture_on_commit_callbacks(execute=True):
        company_reactivate(company=old, by=None)
    assert rollups.all_fresh()
    assert_same_as_records()
    assert evaluate(["active_customers"], user=None, **WINDOW)["active_customers"].points[-1].value == 2
