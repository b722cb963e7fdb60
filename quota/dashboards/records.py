"""The records behind a number: a link to the record list page with the KPI's period and conditions as filters.

    won_revenue, November 2026 -> /crm/deals/?status=won&closed_after=2026-11-01&closed_before=2026-12-01

A list page can only filter by what its FilterSet offers; when a KPI has a condition the list cannot
express (a status among several, a related record, a team) the link still helps but shows more
records than were counted, and says so (`complete` is False).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.module_loading import import_string

from quota.kpi.catalogue import BY_KEY
from quota.kpi.definitions import Definition, Op, parse
from quota.kpi.layout import GroupKey
from quota.kpi.sources import get_source


@dataclass(frozen=True)
class DateFilter:
    after: str  # the list's ">= day" parameter
    before: str  # its "before" parameter
    inclusive: bool  # whether `before` includes its day (a date field) or not (a moment: "< day")


@dataclass(frozen=True)
class RecordList:
    url_name: str
    filterset: str
    dates: dict[str, DateFilter] = field(default_factory=dict)

    @property
    def filters(self) -> set[str]:
        return _filter_names(self.filterset)


LISTS: dict[str, RecordList] = {
    "deals": RecordList(
        "crm:deal_list",
        "quota.crm.filtersets.DealFilterSet",
        {
            "closed_at": DateFilter("closed_after", "closed_before", inclusive=False),
            "expected_close_date": DateFilter("expected_close_after", "expected_close_before", inclusive=True),
        },
    ),
    "leads": RecordList(
        "crm:lead_list",
        "quota.crm.filtersets.LeadFilterSet",
        {"created_at": DateFilter("created_after", "created_before", False)},
    ),
    "activities": RecordList(
        "activities:activity_list",
        "quota.activities.filtersets.ActivityFilterSet",
        {"occurred_at": DateFilter("after", "before", False)},
    ),
    "cases": RecordList(
        "service:case_list",
        "quota.service.filtersets.CaseFilterSet",
        {"created_at": DateFilter("created_after", "created_before", False)},
    ),
    "campaigns": RecordList("marketing:campaign_list", "quota.marketing.filtersets.CampaignFilterSet"),
    "offers": RecordList("sales:offer_list", "quota.sales.filtersets.OfferFilterSet"),
    "orders": RecordList(
        "sales:order_list",
        "quota.sales.filtersets.OrderFilterSet",
        {"ordered_at": DateFilter("ordered_after", "ordered_before", False)},
    ),
    "invoices": RecordList(
        "sales:invoice_list",
        "quota.sales.filtersets.InvoiceFilterSet",
        {"issued_at": DateFilter("issued_after", "issued_before", False)},
    ),
}


@cache
def catalogue_definition(key: str) -> Definition:
    """A built-in KPI's definition straight from the catalogue (code, so no query)."""
    return parse(BY_KEY[key].definition)


@cache
def _filter_names(path: str) -> set[str]:
    return set(import_string(path).base_filters)


@dataclass(frozen=True)
class RecordsLink:
    url: str
    complete: bool


def records_link(
    definition: Definition,
    *,
    start: dt.date,
    end: dt.date,
    today: dt.date,
    by: str = "none",
    group: GroupKey = None,
    group_value: Any = None,
) -> RecordsLink | None:
    """The list of the records a KPI counted from `start` to `end` (inclusive), for one group if given.

    `group_value` is what the list filters the group by when it is not the group's id (a lead source's key).
    None when the KPI's records have no list page.
    """
    records = LISTS.get(definition.source)
    if records is None:
        return None
    params: dict[str, Any] = {}
    complete = not definition.offset

    if definition.snapshot is not None:
        # The deals open now: right for a period that is still running, only a hint for a past one.
        complete &= definition.source == "deals" and end >= today
        if definition.source == "deals":
            params["status"] = "open"
    else:
        date = records.dates.get(definition.date or get_source(definition.source).date)
        if date is None:
            complete = False
        else:
            params[date.after] = start.isoformat()
            params[date.before] = (end if date.inclusive else end + dt.timedelta(days=1)).isoformat()

    for condition in definition.filters:
        if condition.op == Op.EQ and condition.field in records.filters and isinstance(condition.value, str | int | bool):
            params[condition.field] = str(condition.value).lower() if isinstance(condition.value, bool) else condition.value
        else:
            complete = False

    if by != "none":
        name = {"person": "owner", "source": "source", "stage": "stage"}.get(by)
        attributed_to_owner = by != "person" or (definition.attribution or get_source(definition.source).attribution) == "owner"
        if name in records.filters and group is not None and attributed_to_owner:
            params[name] = group if group_value is None else group_value
        else:
            complete = False
    return RecordsLink(f"{reverse(records.url_name)}?{urlencode(params)}", complete)
