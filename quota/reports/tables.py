"""The tables a report can list, each a queryset restricted to what the scope person may see.

A registry: a table names its columns and how to read its rows for a person and (when it depends
on one) a period. Values are in the company currency, as the KPIs are.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from quota.core.calendar import local_midnight
from quota.core.money import in_company_currency
from quota.crm.choices import DealStatus
from quota.crm.models import Deal
from quota.kpi.definitions import Unit
from quota.reports.choices import ReportTable
from quota.reports.periods import Window

VALUE = in_company_currency("amount")  # a deal's value as the KPIs add it up


@dataclass(frozen=True)
class Column:
    label: Any
    unit: Unit | None = None  # money and counts are formatted as the KPIs are; None: text or date


@dataclass(frozen=True)
class TableRows:
    rows: list[list[Any]]
    total: int  # all matching rows; `rows` may hold fewer


@dataclass(frozen=True)
class TableSpec:
    key: str
    title: Any
    columns: tuple[Column, ...]
    per_period: bool
    read: Callable[[Any, Window | None, int], TableRows]
    sheet: Any = ""  # a short name for the table's XLSX sheet, which also names the period in 31 characters


# Short names for the tables' XLSX sheets (their own context: "Won deals" elsewhere is a longer KPI name).
SHEETS: dict[str, Any] = {
    ReportTable.WON_DEALS: pgettext_lazy("xlsx sheet", "Won deals"),
    ReportTable.TOP_WON_DEALS: pgettext_lazy("xlsx sheet", "Largest won"),
    ReportTable.LOST_DEALS: pgettext_lazy("xlsx sheet", "Lost deals"),
    ReportTable.OPEN_PIPELINE: pgettext_lazy("xlsx sheet", "Open pipeline"),
}


def _deals(user: Any) -> QuerySet:
    return Deal.objects.visible_to(user).select_related("company", "owner", "stage", "loss_reason").annotate(value=VALUE)


def _closed_in(queryset: QuerySet, status: str, window: Window | None) -> QuerySet:
    assert window is not None
    start, end = local_midnight(window.start), local_midnight(window.end + dt.timedelta(days=1))
    return queryset.filter(status=status, closed_at__gte=start, closed_at__lt=end)


def _local_day(moment: dt.datetime | None) -> dt.date | None:
    return timezone.localtime(moment).date() if moment else None


def _owner(deal: Deal) -> str:
    return str(deal.owner) if deal.owner else str(_("Unassigned"))


def _rows(queryset: QuerySet, limit: int, row: Callable[[Any], list[Any]]) -> TableRows:
    total = queryset.count()
    return TableRows([row(deal) for deal in queryset[:limit]], total)


def _won_row(deal: Any) -> list[Any]:
    return [deal.title, str(deal.company or ""), _owner(deal), _local_day(deal.closed_at), Decimal(deal.value)]


WON_COLUMNS = (
    Column(_("Deal")),
    Column(_("Company")),
    Column(_("Owner")),
    Column(_("Closed")),
    Column(_("Value"), Unit.MONEY),
)


def won_deals(user: Any, window: Window | None, limit: int) -> TableRows:
    return _rows(_closed_in(_deals(user), DealStatus.WON, window).order_by("-closed_at", "-pk"), limit, _won_row)


def top_won_deals(user: Any, window: Window | None, limit: int) -> TableRows:
    return _rows(_closed_in(_deals(user), DealStatus.WON, window).order_by("-value", "-pk"), min(limit, 10), _won_row)


def lost_deals(user: Any, window: Window | None, limit: int) -> TableRows:
    def row(deal: Any) -> list[Any]:
        return [*_won_row(deal), str(deal.loss_reason or "")]

    return _rows(_closed_in(_deals(user), DealStatus.LOST, window).order_by("-closed_at", "-pk"), limit, row)


def open_pipeline(user: Any, window: Window | None, limit: int) -> TableRows:
    def row(deal: Any) -> list[Any]:
        return [
            deal.title,
            str(deal.company or ""),
            _owner(deal),
            deal.stage.display_name,
            deal.expected_close_date,
            Decimal(deal.value),
        ]

    return _rows(_deals(user).filter(status=DealStatus.OPEN).order_by("-value", "-pk"), limit, row)


TABLES: dict[str, TableSpec] = {
    spec.key: dataclasses.replace(spec, sheet=SHEETS[spec.key])
    for spec in [
        TableSpec(ReportTable.WON_DEALS, ReportTable.WON_DEALS.label, WON_COLUMNS, True, won_deals),
        TableSpec(ReportTable.TOP_WON_DEALS, ReportTable.TOP_WON_DEALS.label, WON_COLUMNS, True, top_won_deals),
        TableSpec(
            ReportTable.LOST_DEALS, ReportTable.LOST_DEALS.label, (*WON_COLUMNS, Column(_("Loss reason"))), True, lost_deals
        ),
        TableSpec(
            ReportTable.OPEN_PIPELINE,
            ReportTable.OPEN_PIPELINE.label,
            (
                Column(_("Deal")),
                Column(_("Company")),
                Column(_("Owner")),
                Column(_("Stage")),
                Column(_("Expected close")),
                Column(_("Value"), Unit.MONEY),
            ),
            False,
            open_pipeline,
        ),
    ]
}
