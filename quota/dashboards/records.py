"""The records behind a number: a link to the record list page with the KPI's period and conditions as filters.

    won_revenue, November 2026 -> /crm/deals/?status=won&closed_after=2026-11-01&closed_before=2026-12-01

A condition the list has a plain filter for (`status=won`) is carried as that filter; any other
(a status among several, a related record, an amount above a floor) makes the link carry the KPI
itself (`kpi=<key>`), whose filters the list then applies the way the engine does. A snapshot
(the pipeline) of a past period lists the records open at its end (`open_on=<day>`). A scope
(one person, one team) is the list's `owner` or `team` filter. When the list still cannot keep
exactly what was counted, the link helps but shows more records, and says so (`complete` False).
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
from quota.kpi.filters import kpi_filters, listable_filters
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
    snapshot: tuple[str, str] | None = None  # the (from, until) fields its `open_on` filter reads

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
        snapshot=("created_at", "closed_at"),
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
        snapshot=("created_at", "resolved_at"),
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
    """The list's filters: those it declares and those the KPI engine adds to it (`?kpi=`, kpi.filters)."""
    filterset = import_string(path)
    return set(filterset.base_filters) | set(kpi_filters(filterset))


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
    scope: tuple[str, int] | None = None,
    kpi: str | None = None,
    stage_then: bool = False,
) -> RecordsLink | None:
    """The list of the records a KPI counted from `start` to `end` (inclusive), for one group if given.

    `group_value` is what the list filters the group by when it is not the group's id (a lead source's key).
    `scope` is the list filter (name, value) of the figures' scope (`Scope.records_filter`); `kpi` the saved
    KPI's key, which the list can apply when a condition has no filter of its own. `stage_then` groups a
    past pipeline by the stage each deal was in at the period's end (the funnel), not its stage now.
    None when the KPI's records have no list page.
    """
    records = LISTS.get(definition.source)
    if records is None:
        return None
    params: dict[str, Any] = {}
    complete = not definition.offset
    open_on = False

    if definition.snapshot is not None:
        snapshot = (definition.snapshot.start, definition.snapshot.end)
        if definition.source == "deals" and snapshot == records.snapshot and end >= today:
            params["status"] = "open"  # the deals open now: what the period still running counts
        elif snapshot == records.snapshot and "open_on" in records.filters:
            params["open_on"] = min(end, today).isoformat()  # as they stood at the period's end
            open_on = True
        else:
            complete = False
    else:
        date = records.dates.get(definition.date or get_source(definition.source).date)
        if date is None:
            complete = False
        else:
            params[date.after] = start.isoformat()
            params[date.before] = (end if date.inclusive else end + dt.timedelta(days=1)).isoformat()

    plain = True
    for condition in definition.filters:
        if condition.op == Op.EQ and condition.field in records.filters and isinstance(condition.value, str | int | bool):
            params[condition.field] = str(condition.value).lower() if isinstance(condition.value, bool) else condition.value
        else:
            plain = False
    if not plain or definition.measure.filters:
        if kpi and "kpi" in records.filters and listable_filters(definition) is not None:
            params["kpi"] = kpi
        else:
            complete = False

    attributed_to_owner = (definition.attribution or get_source(definition.source).attribution) == "owner"
    if by != "none":
        name = {"person": "owner", "team": "team", "source": "source", "stage": "stage"}.get(by)
        if name == "stage" and open_on and stage_then:
            name = "stage_on"
        if name in records.filters and group is not None and (by not in {"person", "team"} or attributed_to_owner):
            params[name] = group if group_value is None else group_value
        else:
            complete = False
    if scope is not None:
        name, value = scope
        if name in records.filters and attributed_to_owner:
            params[name] = value
        else:
            complete = False
    return RecordsLink(f"{reverse(records.url_name)}?{urlencode(params)}", complete)
