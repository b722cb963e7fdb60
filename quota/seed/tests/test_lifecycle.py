"""The seeded customers' lifecycles: customers from their first won deal, some churned since, with a reason."""

import datetime as dt

import pytest
from django.db.models import Max, Min
from django.db.models.functions import TruncDate

from quota.core.calendar import company_zone
from quota.crm.models import Company, Deal
from quota.seed.lifecycle import REASON_WEIGHTS
from quota.seed.tests.conftest import TODAY

pytestmark = pytest.mark.django_db


def won_days(aggregate):
    won = Deal.objects.filter(status="won", company__isnull=False)
    rows = won.values("company").annotate(day=aggregate(TruncDate("closed_at", tzinfo=company_zone()))).order_by()
    return {row["company"]: row["day"] for row in rows}


def test_customers_date_from_their_first_won_deal(seeded):
    first = won_days(Min)
    assert first, "the seed wins deals"
    assert dict(Company.objects.filter(customer_since__isnull=False).values_list("pk", "customer_since")) == first


def test_a_share_of_customers_churned_after_their_last_purchase_with_a_reason(seeded):
    last = won_days(Max)
    churned = list(Company.objects.filter(churned_on__isnull=False).values_list("pk", "churned_on", "churn_reason__key"))
    customers = Company.objects.filter(customer_since__isnull=False).count()
    assert 0 < len(churned) < customers * 0.5
    for pk, day, reason in churned:
        assert last[pk] < day <= TODAY and reason
    assert {reason for _pk, _day, reason in churned} <= set(REASON_WEIGHTS)
    assert Company.objects.filter(lifecycle="churned").count() == len(churned)
    assert isinstance(churned[0][1], dt.date)
