"""The built-in KPIs: definitions in the same format the builder writes, with the text users read.

`services.sync_catalogue()` loads these into `Metric` after every migration: a definition that
changed becomes a new version (the old one is kept for the targets set against it); a changed
name or text only updates the current version. Keys are stable; never reuse one for another idea.

Conventions: money is in the company currency (each record's own exchange rate); a rate is a
fraction (0.25 = 25 %); a record counts for its owner (so for the owner's team) unless stated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_noop as _


@dataclass(frozen=True)
class Entry:
    key: str
    name: str
    description: str
    definition: Mapping[str, Any]


def eq(field: str, value: Any) -> dict[str, Any]:
    return {"field": field, "op": "eq", "value": value}


def has(field: str, present: bool = True) -> dict[str, Any]:
    return {"field": field, "op": "isnull", "value": not present}


def count(*filters: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "count", "filters": list(filters)} if filters else {"kind": "count"}


def share(numerator: dict[str, Any], denominator: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "ratio", "numerator": numerator, "denominator": denominator}


WON = eq("status", "won")
LOST = eq("status", "lost")
CLOSED = {"field": "status", "op": "in", "value": ["won", "lost"]}
NOT_CANCELLED = {"field": "status", "op": "ne", "value": "cancelled"}
CALL = eq("kind", "call")
OPEN_DEALS = {"from": "created_at", "until": "closed_at"}
WITH_CUSTOMER = has("company")
# A customer's first purchase: a won deal with no earlier won deal of the same company.
FIRST_PURCHASE = {
    "field": "company",
    "op": "not_exists",
    "value": {"source": "deals", "link": "company", "date": "closed_at", "when": "earlier", "filters": [WON]},
}
# A lost deal that a later deal, opened from its follow-up, has won back.
WON_BACK = {
    "field": "id",
    "op": "exists",
    "value": {"source": "deals", "link": "won_back_from", "date": "closed_at", "when": "later", "filters": [WON]},
}
BOUGHT_NEXT_PERIOD = {"source": "deals", "link": "company", "date": "closed_at", "when": "next_period", "filters": [WON]}


# -- a customer's lifecycle (companies' customer_since and churned_on dates)
def _companies(date: str, *, cumulative: bool = False) -> dict[str, Any]:
    """Companies by one of their lifecycle dates: in the period, or (cumulative) on any day before its end."""
    return {"kind": "count", "source": "companies", "date": date, **({"cumulative": True} if cumulative else {})}


def _before_start(date: str) -> dict[str, Any]:
    """Companies whose `date` falls before the period starts: up to its end, less those in it."""
    return {"kind": "difference", "left": _companies(date, cumulative=True), "right": _companies(date)}


# Customers at the period's start: became customers before it, less those who had churned before it.
ACTIVE_AT_START = {"kind": "difference", "left": _before_start("customer_since"), "right": _before_start("churned_on")}
# Customers at the period's end who were customers at its start: those at the end, less the period's new ones.
KEPT_FROM_START = {
    "kind": "difference",
    "left": {
        "kind": "difference",
        "left": _companies("customer_since", cumulative=True),
        "right": _companies("churned_on", cumulative=True),
    },
    "right": _companies("customer_since"),
}


def _deals(date: str, measure: dict[str, Any], unit: str, *filters: dict[str, Any], better: str = "higher", **more: Any) -> dict:
    return {"source": "deals", "date": date, "filters": list(filters), "measure": measure, "unit": unit, "better": better, **more}


def _snapshot(measure: dict[str, Any], unit: str, better: str = "higher") -> dict[str, Any]:
    return {"source": "deals", "snapshot": OPEN_DEALS, "measure": measure, "unit": unit, "better": better}


def _source(
    source: str, date: str, measure: dict[str, Any], unit: str, *filters: dict, better: str = "higher", **more: Any
) -> dict:
    return {"source": source, "date": date, "filters": list(filters), "measure": measure, "unit": unit, "better": better, **more}


CATALOGUE: list[Entry] = [
    # -- leads
    Entry(
        "new_leads",
        _("New leads"),
        _(
            "Leads created in the period, placed by the date they were created and counted for the lead's owner. "
            "Group it by source to see where they came from."
        ),
        _source("leads", "created_at", count(), "count"),
    ),
    Entry(
        "lead_conversion_rate",
        _("Lead conversion rate"),
        _(
            "Of the leads created in the period (by creation date), the share that has been converted into a deal. "
            "A recent period's rate can still rise as its leads convert."
        ),
        _source("leads", "created_at", share(count(eq("status", "converted")), count()), "percent"),
    ),
    # -- deals: outcomes
    Entry(
        "won_deals",
        _("Won deals"),
        _("Deals won in the period, placed by the date they were closed, counted for the deal's owner."),
        _deals("closed_at", count(), "count", WON),
    ),
    Entry(
        "lost_deals",
        _("Lost deals"),
        _("Deals lost in the period, placed by the date they were closed."),
        _deals("closed_at", count(), "count", LOST, better="lower"),
    ),
    Entry(
        "win_rate",
        _("Win rate"),
        _("Won deals divided by deals closed (won plus lost) in the period, placed by the close date. Open deals do not count."),
        _deals("closed_at", share(count(WON), count()), "percent", CLOSED),
    ),
    Entry(
        "win_rate_all",
        _("Win rate of all deals"),
        _(
            "Of the deals created in the period (by creation date), the share won so far; open and lost deals both count "
            "against it, so a recent period's rate rises as its deals are won."
        ),
        _deals("created_at", share(count(WON), count()), "percent"),
    ),
    Entry(
        "won_revenue",
        _("Won revenue (sales volume)"),
        _("The sum of the amounts of the deals won in the period, in the company currency, placed by the close date."),
        _deals("closed_at", {"kind": "sum", "field": "amount"}, "money", WON),
    ),
    Entry(
        "lost_revenue",
        _("Lost revenue"),
        _(
            "The sum of the amounts of the deals lost in the period, in the company currency, placed by the close date: "
            "the value that left the pipeline without a sale."
        ),
        _deals("closed_at", {"kind": "sum", "field": "amount"}, "money", LOST, better="lower"),
    ),
    Entry(
        "avg_deal_value",
        _("Average deal value"),
        _("Won revenue divided by the number of deals won in the period (by close date), in the company currency."),
        _deals("closed_at", {"kind": "avg", "field": "amount"}, "money", WON),
    ),
    Entry(
        "sales_cycle_days",
        _("Sales cycle length"),
        _("The average number of days from creation to close of the deals won in the period, placed by the close date."),
        _deals("closed_at", {"kind": "duration", "start": "created_at", "end": "closed_at"}, "days", WON, better="lower"),
    ),
    Entry(
        "new_customer_deals",
        _("Deals won from new customers"),
        _("Deals won in the period (by close date) whose business is marked as a new customer."),
        _deals("closed_at", count(), "count", WON, eq("business_type", "new")),
    ),
    Entry(
        "existing_customer_deals",
        _("Deals won from existing customers"),
        _("Deals won in the period (by close date) whose business is marked as an existing customer."),
        _deals("closed_at", count(), "count", WON, eq("business_type", "existing")),
    ),
    Entry(
        "upsell_rate",
        _("Upsell rate"),
        _("The share of the deals won in the period (by close date) that were won from existing customers."),
        _deals("closed_at", share(count(eq("business_type", "existing")), count()), "percent", WON),
    ),
    Entry(
        "win_back_rate",
        _("Win-back rate"),
        _(
            "Of the deals lost in the period (by close date), the share won back so far: a later deal opened from the lost "
            "deal's follow-up (won back from it) has been won. Counted for the owner of the lost deal; a recent period's rate "
            "rises as follow-ups are won."
        ),
        _deals("closed_at", share(count(WON_BACK), count()), "percent", LOST),
    ),
    # -- deals: the pipeline, taken at each period's end
    Entry(
        "open_deals",
        _("Open deals (pipeline count)"),
        _(
            "Deals open at the end of the period: created before it ended and not won or lost by then. For the current "
            "period that is the pipeline now. Grouped by stage, each deal is in its current stage."
        ),
        _snapshot(count(), "count"),
    ),
    Entry(
        "pipeline_value",
        _("Pipeline value"),
        _(
            "The sum of the amounts of the deals open at the end of the period (as for open deals), in the company "
            "currency. For the current period that is the pipeline now."
        ),
        _snapshot({"kind": "sum", "field": "amount"}, "money"),
    ),
    Entry(
        "weighted_pipeline",
        _("Weighted pipeline"),
        _(
            "The pipeline value with each open deal's amount multiplied by its stage's win probability, at the end of "
            "the period. It uses each deal's current stage and the stage's current probability."
        ),
        _snapshot({"kind": "sum", "field": "weighted_amount"}, "money"),
    ),
    Entry(
        "avg_days_open",
        _("Average days open"),
        _("The average age in days, at the end of the period, of the deals open then (from their creation)."),
        _snapshot({"kind": "age", "field": "created_at"}, "days", better="lower"),
    ),
    # -- sales documents
    Entry(
        "offers_created",
        _("Offers created"),
        _("Offers (quotes) created in the period, by creation date, counted for the offer's owner."),
        _source("offers", "created_at", count(), "count"),
    ),
    Entry(
        "quoted_value",
        _("Quoted value"),
        _(
            "The total of the offer lines (quantity times unit price less discount) of the offers created in the period, "
            "in the company currency. Group it by product to see what is offered."
        ),
        _source("offer_lines", "offer__created_at", {"kind": "sum", "field": "total"}, "money"),
    ),
    Entry(
        "orders_created",
        _("Orders created"),
        _("Orders placed in the period, by order date, including those cancelled later."),
        _source("orders", "ordered_at", count(), "count"),
    ),
    Entry(
        "sales_volume",
        _("Order revenue"),
        _(
            "The sum of the amounts of the orders placed in the period (by order date) and not cancelled, in the company "
            "currency."
        ),
        _source("orders", "ordered_at", {"kind": "sum", "field": "amount"}, "money", NOT_CANCELLED),
    ),
    Entry(
        "profit",
        _("Profit"),
        _("Amount less cost of the orders placed in the period (by order date) and not cancelled, in the company currency."),
        _source("orders", "ordered_at", {"kind": "sum", "field": "profit"}, "money", NOT_CANCELLED),
    ),
    Entry(
        "margin",
        _("Margin"),
        _("Profit divided by revenue of the orders placed in the period (by order date) and not cancelled."),
        _source(
            "orders",
            "ordered_at",
            share({"kind": "sum", "field": "profit"}, {"kind": "sum", "field": "amount"}),
            "percent",
            NOT_CANCELLED,
        ),
    ),
    # -- activities
    Entry(
        "calls_made",
        _("Calls"),
        _("Calls logged in the period, inbound and outbound, placed by when they happened, counted for the caller."),
        _source("activities", "occurred_at", count(), "count", CALL),
    ),
    Entry(
        "calls_outbound",
        _("Outbound calls"),
        _("Outbound calls logged in the period, placed by when they happened."),
        _source("activities", "occurred_at", count(), "count", CALL, eq("direction", "out")),
    ),
    Entry(
        "calls_inbound",
        _("Inbound calls"),
        _("Inbound calls logged in the period, placed by when they happened."),
        _source("activities", "occurred_at", count(), "count", CALL, eq("direction", "in")),
    ),
    Entry(
        "answered_call_rate",
        _("Answered call rate"),
        _("The share of the period's calls (both directions) marked as answered."),
        _source("activities", "occurred_at", share(count(eq("answered", True)), count()), "percent", CALL),
    ),
    Entry(
        "talk_minutes",
        _("Talk time"),
        _("The total duration of the calls logged in the period (by when they happened), in minutes, for the caller."),
        _source("activities", "occurred_at", {"kind": "sum", "field": "duration_seconds", "divide_by": 60}, "minutes", CALL),
    ),
    Entry(
        "emails_sent",
        _("E-mails sent"),
        _("Outbound e-mails logged in the period, placed by when they were sent."),
        _source("activities", "occurred_at", count(), "count", eq("kind", "email"), eq("direction", "out")),
    ),
    Entry(
        "meetings_held",
        _("Meetings held"),
        _("Meetings in the period that took place (marked held), placed by their date."),
        _source("activities", "occurred_at", count(), "count", eq("kind", "meeting"), eq("held", True)),
    ),
    Entry(
        "meetings_per_won_deal",
        _("Meetings per won deal"),
        _("Meetings held in the period divided by deals won in the period (by close date), for the same people."),
        _source(
            "activities",
            "occurred_at",
            share(count(), {"kind": "count", "source": "deals", "date": "closed_at", "filters": [WON]}),
            "score",
            eq("kind", "meeting"),
            eq("held", True),
            better="lower",
        ),
    ),
    # -- service
    Entry(
        "first_response_hours",
        _("First response time"),
        _("The average hours from a case's creation to its first response, for the cases first answered in the period."),
        _source(
            "cases",
            "first_response_at",
            {"kind": "duration", "start": "created_at", "end": "first_response_at", "per": "hour"},
            "hours",
            better="lower",
        ),
    ),
    Entry(
        "resolution_hours",
        _("Resolution time"),
        _("The average hours from a case's creation to its resolution, for the cases resolved in the period."),
        _source(
            "cases",
            "resolved_at",
            {"kind": "duration", "start": "created_at", "end": "resolved_at", "per": "hour"},
            "hours",
            better="lower",
        ),
    ),
    Entry(
        "sla_breach_rate",
        _("SLA breach rate"),
        _(
            "Of the cases whose first response was due in the period (and is due by now), the share not answered by the "
            "time it was due."
        ),
        _source(
            "cases",
            "response_due_at",
            share(
                {
                    "kind": "difference",
                    "left": count(),
                    "right": count({"field": "first_response_at", "op": "lte", "value": {"field": "response_due_at"}}),
                },
                count(),
            ),
            "percent",
            {"field": "response_due_at", "op": "lt", "value": {"now": True}},
            better="lower",
        ),
    ),
    Entry(
        "csat",
        _("Customer satisfaction (CSAT)"),
        _("The average CSAT score (1 to 5) of the answers given in the period, counted for the person they are attributed to."),
        _source("survey_answers", "answered_at", {"kind": "avg", "field": "score"}, "score", eq("kind", "csat")),
    ),
    Entry(
        "nps",
        _("Net promoter score (NPS)"),
        _(
            "Of the NPS answers given in the period: the percentage of promoters (9-10) minus the percentage of detractors "
            "(0-6), from -100 to 100."
        ),
        _source(
            "survey_answers",
            "answered_at",
            {
                "kind": "ratio",
                "numerator": {
                    "kind": "difference",
                    "left": count({"field": "score", "op": "gte", "value": 9}),
                    "right": count({"field": "score", "op": "lte", "value": 6}),
                },
                "denominator": count(),
                "multiply_by": 100,
            },
            "score",
            eq("kind", "nps"),
        ),
    ),
    # -- marketing
    Entry(
        "campaign_open_rate",
        _("Campaign open rate"),
        _("Of the campaign messages sent in the period, the share opened; counted for the campaign's owner."),
        _source("campaign_events", "sent_at", share(count(has("opened_at")), count()), "percent"),
    ),
    Entry(
        "campaign_click_rate",
        _("Campaign click rate"),
        _("Of the campaign messages sent in the period, the share clicked."),
        _source("campaign_events", "sent_at", share(count(has("clicked_at")), count()), "percent"),
    ),
    Entry(
        "new_customers",
        _("New customers"),
        _("Companies that made their first purchase in the period: a won deal (by close date) with no earlier won deal."),
        _deals("closed_at", count(), "count", WON, WITH_CUSTOMER, FIRST_PURCHASE),
    ),
    Entry(
        "cac",
        _("Customer acquisition cost (CAC)"),
        _(
            "The spend of the campaigns starting in the period divided by the new customers of the period (first purchases, "
            "by close date). Company-wide, or by lead source (campaign source against the deal's source)."
        ),
        _source(
            "campaigns",
            "starts_on",
            share(
                {"kind": "sum", "field": "spend"},
                {"kind": "count", "source": "deals", "date": "closed_at", "filters": [WON, WITH_CUSTOMER, FIRST_PURCHASE]},
            ),
            "money",
            better="lower",
            groupings=["source"],
        ),
    ),
    # -- customers
    Entry(
        "clv",
        _("Customer lifetime value (historic)"),
        _(
            "Won revenue divided by the number of distinct customers it came from, for the deals won in the period (by "
            "close date). Over the whole history (every: none) it is the average revenue a customer has brought."
        ),
        _deals(
            "closed_at",
            share({"kind": "sum", "field": "amount"}, {"kind": "distinct", "field": "company"}),
            "money",
            WON,
            WITH_CUSTOMER,
        ),
    ),
    Entry(
        "retention_rate",
        _("Customer retention rate (repeat purchase)"),
        _(
            "Of the customers who bought (a won deal, by close date) in the previous period, the share who bought again in "
            "this period. By person: the customers the person sold to in the previous period. It reads purchases; for "
            "contracts and subscriptions, the lifecycle retention rate reads the dates customers started and left."
        ),
        _deals(
            "closed_at",
            share(
                {
                    "kind": "distinct",
                    "field": "company",
                    "filters": [{"field": "company", "op": "exists", "value": BOUGHT_NEXT_PERIOD}],
                },
                {"kind": "distinct", "field": "company"},
            ),
            "percent",
            WON,
            WITH_CUSTOMER,
            offset=1,
        ),
    ),
    Entry(
        "churn_rate",
        _("Customer churn rate (repeat purchase)"),
        _(
            "Of the customers who bought in the previous period, the share who did not buy again in this period (1 - "
            "retention). It reads purchases: a customer who simply did not buy counts as churned; the lifecycle churn rate "
            "counts only customers who left (a churn date)."
        ),
        _deals(
            "closed_at",
            share(
                {
                    "kind": "distinct",
                    "field": "company",
                    "filters": [{"field": "company", "op": "not_exists", "value": BOUGHT_NEXT_PERIOD}],
                },
                {"kind": "distinct", "field": "company"},
            ),
            "percent",
            WON,
            WITH_CUSTOMER,
            better="lower",
            offset=1,
        ),
    ),
    Entry(
        "customer_activity_rate",
        _("Customer activity rate"),
        _(
            "Customers who bought in the period (a won deal, by close date) divided by all customers at the period's end "
            "(companies with a first purchase by then). Company-wide only."
        ),
        _deals(
            "closed_at",
            share({"kind": "distinct", "field": "company"}, {"kind": "count", "cumulative": True, "filters": [FIRST_PURCHASE]}),
            "percent",
            WON,
            WITH_CUSTOMER,
            groupings=[],
        ),
    ),
    # -- customers by lifecycle: a company is a customer from its customer-since date until its churn date
    Entry(
        "active_customers",
        _("Active customers"),
        _(
            "Companies that are customers at the period's end: a customer-since date on or before it and no churn date "
            "by then. Counted for the company's owner."
        ),
        {
            "source": "companies",
            "snapshot": {"from": "customer_since", "until": "churned_on"},
            "measure": count(),
            "unit": "count",
            "better": "higher",
        },
    ),
    Entry(
        "churned_customers",
        _("Churned customers"),
        _("Customers whose churn date falls in the period (contracts ended, subscriptions cancelled), by churn date."),
        _source("companies", "churned_on", count(), "count", better="lower"),
    ),
    Entry(
        "customer_churn_rate_lifecycle",
        _("Customer churn rate (lifecycle)"),
        _(
            "Customers who churned in the period (by churn date) divided by the customers active at the period's start "
            "(a customer-since date before it, no churn date before it). Unlike the repeat-purchase churn rate, a customer "
            "who does not buy has not churned: only a churn date counts. A customer won and lost within the period counts "
            "among those who churned."
        ),
        _source("companies", "churned_on", share(count(), ACTIVE_AT_START), "percent", better="lower"),
    ),
    Entry(
        "customer_retention_rate_lifecycle",
        _("Customer retention rate (lifecycle)"),
        _(
            "Customers at the period's end less those who became customers in it, divided by the customers active at its "
            "start: 1 - the lifecycle churn rate. Unlike the repeat-purchase retention rate, it reads the dates customers "
            "started and left, not their purchases."
        ),
        _source("companies", "churned_on", share(KEPT_FROM_START, ACTIVE_AT_START), "percent"),
    ),
    Entry(
        "customer_profit",
        _("Profit per customer"),
        _(
            "Profit of the orders placed in the period (by order date, not cancelled) divided by the number of distinct "
            "customers who placed them. The loss-making customers are listed on their own."
        ),
        _source(
            "orders",
            "ordered_at",
            share({"kind": "sum", "field": "profit"}, {"kind": "distinct", "field": "company"}),
            "money",
            NOT_CANCELLED,
        ),
    ),
    Entry(
        "top20_revenue_share",
        # xgettext:no-python-format
        _("Revenue share of the top 20 % of customers"),
        _(
            # xgettext:no-python-format
            "Of the revenue won in the period (by close date), the share from the 20 % of customers (rounded up) who "
            "brought the most."
        ),
        _deals(
            "closed_at",
            {"kind": "top_share", "field": "amount", "entity": "company", "share": 0.2},
            "percent",
            WON,
            WITH_CUSTOMER,
        ),
    ),
]

BY_KEY = {entry.key: entry for entry in CATALOGUE}
assert len(BY_KEY) == len(CATALOGUE), "catalogue keys must be unique"
