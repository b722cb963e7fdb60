"""A company's life as a customer, in SQL: the first won day that makes it one, set in bulk or per win.

The migration that added the lifecycle, the seeds and the deals import share these expressions, and
`deal_close_won` takes the same company-time day of the deal it wins, so a company becomes a customer on
the same day whichever path wrote it: the day of its first won deal, unless someone already said otherwise.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, Min, OuterRef, Subquery
from django.db.models.functions import TruncDate

from quota.core.calendar import company_zone
from quota.crm.choices import DealStatus


def _won(deal_model: Any) -> Any:
    return deal_model.objects.filter(company=OuterRef("pk"), status=DealStatus.WON, closed_at__isnull=False)


def first_won_day(deal_model: Any) -> Subquery:
    """For an outer company row: the company-time day of its first won deal (NULL when it has none)."""
    first = _won(deal_model).order_by().values("company").annotate(day=Min(TruncDate("closed_at", tzinfo=company_zone())))
    return Subquery(first.values("day")[:1])


def fill_customer_since(companies: Any, deal_model: Any) -> int:
    """Give `companies` without a customer-since date the day of their first won deal: one UPDATE; returns how many."""
    pending = companies.filter(Exists(_won(deal_model)), customer_since__isnull=True)
    return int(pending.update(customer_since=first_won_day(deal_model)))
