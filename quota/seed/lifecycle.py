"""Customers' lifecycles, written after the deals: who became a customer when, and who left, when and why.

A company is a customer from its first won deal (the same SQL as the migration and the deals import). A
share of customers then churn: some time after their last won deal (so no one buys after leaving), on a
day up to the seed's today, with a reason drawn from the built-in churn reasons. One UPDATE for the
customer-since dates, one grouped query for the last wins, and batched bulk updates for the churned.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.db.models import Max
from django.db.models.functions import TruncDate

from quota.core.calendar import company_zone
from quota.crm import builtins
from quota.crm.choices import DealStatus
from quota.crm.lifecycle import fill_customer_since
from quota.crm.models import ChurnReason, Company, Deal
from quota.seed.randomness import stream, weighted_index

CHURN_SHARE = 0.3  # of customers who may leave; those whose day would fall after today stay
DAYS_AFTER_LAST_WIN = (30, 540)  # a customer leaves this many days after their last purchase
# How often each built-in reason is given (contracts ending and competitors most often).
REASON_WEIGHTS = {
    "contract_ended": 5,
    "switched_to_competitor": 4,
    "price": 3,
    "no_longer_needed": 2,
    "poor_service": 2,
    "went_out_of_business": 1,
    "other": 1,
}
BATCH = 2000


def seed_lifecycles(seed: int, today: dt.date) -> dict[str, int]:
    """Fill customer-since dates and churn a share of customers; returns how many of each."""
    customers = fill_customer_since(Company.objects.all(), Deal)
    last_wins = (
        Deal.objects.filter(status=DealStatus.WON, company__isnull=False, closed_at__isnull=False)
        .values("company")
        .annotate(day=Max(TruncDate("closed_at", tzinfo=company_zone())))
        .order_by("company")
        .values_list("company", "day")
    )
    rows = list(last_wins)
    if not rows:
        return {"customers": customers, "churned": 0}
    reasons = {r.key: r for r in ChurnReason.objects.filter(key__in=REASON_WEIGHTS)}
    keys = [key for key in builtins.CHURN_REASONS if key in reasons]
    if not keys:
        return {"customers": customers, "churned": 0}
    rng = stream(seed, "churn")
    n = len(rows)
    leaving = rng.random(n) < CHURN_SHARE
    delays = rng.integers(*DAYS_AFTER_LAST_WIN, n)
    picked = weighted_index(rng, np.array([REASON_WEIGHTS[k] for k in keys], dtype=np.float64), n)
    churned = []
    for (company_id, last_win), leaves, delay, reason in zip(
        rows, leaving.tolist(), delays.tolist(), picked.tolist(), strict=True
    ):
        day = last_win + dt.timedelta(days=delay)
        if leaves and day <= today:
            churned.append(Company(pk=company_id, churned_on=day, churn_reason=reasons[keys[reason]]))
    Company.objects.bulk_update(churned, ["churned_on", "churn_reason"], batch_size=BATCH)
    return {"customers": customers, "churned": len(churned)}
