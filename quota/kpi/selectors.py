"""Read paths built on the engine: loss-making customers. (Progress against targets, with the forecast, is
forecasting.targets.)"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Sum
from django.utils import timezone

from quota.kpi.periods import inclusive
from quota.kpi.queries import Scope, in_range
from quota.kpi.sources import get_source
from quota.sales.models import OrderStatus


@dataclass(frozen=True)
class LossMaker:
    company_id: int
    name: str
    profit: Decimal  # negative, in the company currency


def loss_making_customers(*, user: Any, start: dt.date, end: dt.date, using: str = DEFAULT_DB_ALIAS) -> list[LossMaker]:
    """Customers whose orders placed from `start` to `end` (not cancelled) cost more than they brought, worst first."""
    orders = get_source("orders")
    window = inclusive(start, end)
    rows = (
        Scope(user=user, using=using, now=timezone.now())
        .queryset(orders)
        .filter(in_range(orders, "ordered_at", window.start, window.end))
        .exclude(status=OrderStatus.CANCELLED)
        .values("company_id", "company__name")
        .annotate(total=Sum(orders.value("profit")))
        .filter(total__lt=0)
        .order_by("total", "company__name")
    )
    return [LossMaker(r["company_id"], r["company__name"], r["total"]) for r in rows]
