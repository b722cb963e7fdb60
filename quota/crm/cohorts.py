"""The cohort retention table: customers by the month of their first purchase, and the share buying again.

Repeat purchase, as the repeat-purchase retention KPI reads it: a customer's cohort is the month (company
time) of its first won deal; in month k after it, the cohort's share is the customers of the cohort with
a won deal in that month (k = 0 is the whole cohort, 100 %). Read from the won deals the reader may see
(their walls), as one grouped query: each won deal's month against its company's first won month.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, DateField, Exists, OuterRef, Subquery
from django.db.models.functions import Trunc

from quota.core.calendar import company_zone, local_midnight
from quota.crm.choices import DealStatus, Lifecycle
from quota.crm.models import Company, Deal


@dataclass(frozen=True)
class CohortRow:
    month: dt.date  # the cohort: the month of its customers' first purchase
    size: int
    buyers: tuple[int | None, ...]  # customers who bought k months after (None: that month has not ended or begun yet)

    @property
    def shares(self) -> tuple[float | None, ...]:
        return tuple(None if n is None else n / self.size for n in self.buyers)


@dataclass(frozen=True)
class CohortTable:
    first: dt.date
    last: dt.date
    months: int  # columns: months since the first purchase, 0 ... months - 1
    rows: tuple[CohortRow, ...]


def month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def month_of(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


def _month(moment: str | Subquery) -> Trunc:
    return Trunc(moment, "month", output_field=DateField(), tzinfo=company_zone())


def cohort_retention(user: object | None, *, first: dt.date, last: dt.date) -> CohortTable:
    """Cohorts from the month of `first` to that of `last`, each followed up to `last`'s month, as `user` sees the deals.

    `user` None is system work (everything). One grouped query: (cohort month, purchase month) -> customers.
    """
    first, last = first.replace(day=1), last.replace(day=1)
    deals = Deal.objects.all() if user is None else Deal.objects.visible_to(user)
    won = deals.filter(status=DealStatus.WON, company__isnull=False, closed_at__isnull=False)
    starts, ends = local_midnight(first), local_midnight(month_of(month_index(last) + 1))
    # Purchases in the range by customers who had none before it: their cohort is in the range too. The first
    # purchase is one probe of the (company, status, closed_at) index per row, not an aggregate.
    bought_before = won.filter(company=OuterRef("company"), closed_at__lt=starts)
    first_at = won.filter(company=OuterRef("company")).order_by("closed_at").values("closed_at")[:1]
    grouped = (
        won.filter(closed_at__gte=starts, closed_at__lt=ends)
        .filter(~Exists(bought_before))
        .annotate(cohort=_month(Subquery(first_at)), bought=_month("closed_at"))
        .values("cohort", "bought")
        .annotate(customers=Count("company", distinct=True))
        .order_by()
    )
    counts: dict[tuple[int, int], int] = {}
    for row in grouped:
        cohort, bought = month_index(_as_date(row["cohort"])), month_index(_as_date(row["bought"]))
        counts[(cohort, bought - cohort)] = row["customers"]
    start, end = month_index(first), month_index(last)
    months = end - start + 1
    rows = []
    for cohort in range(start, end + 1):
        size = counts.get((cohort, 0), 0)
        if not size:
            continue
        seen = end - cohort + 1  # months of this cohort that have begun by `last`
        buyers = tuple(counts.get((cohort, k), 0) if k < seen else None for k in range(months))
        rows.append(CohortRow(month_of(cohort), size, buyers))
    return CohortTable(first, last, months, tuple(rows))


def _as_date(value: object) -> dt.date:
    """Trunc gives a date (or a datetime on some backends through a subquery)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def lifecycle_counts(user: object | None) -> dict[str, int]:
    """Companies by lifecycle stage, as `user` may see them: one grouped query."""
    companies = Company.objects.all() if user is None else Company.objects.visible_to(user)
    found = dict(companies.values_list("lifecycle").annotate(n=Count("id")).order_by())
    return {stage: found.get(stage, 0) for stage in Lifecycle.values}
