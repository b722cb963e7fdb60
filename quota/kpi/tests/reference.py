"""Every built-in KPI computed again in plain Python, from the same records, without the engine.

Written from the definitions in the glossary, not from the engine's code: its own calendar, its own
money conversion, its own snapshot rule. A test evaluates a KPI with the engine and compares each
value with the function here for the same period and group.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import mean
from typing import Any
from zoneinfo import ZoneInfo

ZONE_NAME = "Europe/Warsaw"
ZONE = ZoneInfo(ZONE_NAME)
ANYONE = object()  # the group of everything (no grouping)


# -- an independent calendar ------------------------------------------------------------------


def local_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(ZONE).date()


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=ZONE)


def months_later(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + (day.month - 1) + months
    return dt.date(total // 12, total % 12 + 1, 1)


def period_of(day: dt.date, every: str) -> dt.date:
    if every == "day":
        return day
    if every == "week":
        return day - dt.timedelta(days=day.weekday())
    if every == "month":
        return day.replace(day=1)
    if every == "quarter":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return dt.date(day.year, 1, 1)


def next_period(start: dt.date, every: str) -> dt.date:
    if every == "day":
        return start + dt.timedelta(days=1)
    if every == "week":
        return start + dt.timedelta(days=7)
    return months_later(start, {"month": 1, "quarter": 3, "year": 12}[every])


def previous_period(start: dt.date, every: str) -> dt.date:
    if every == "day":
        return start - dt.timedelta(days=1)
    if every == "week":
        return start - dt.timedelta(days=7)
    return months_later(start, -{"month": 1, "quarter": 3, "year": 12}[every])


def period_a_year_before(start: dt.date, every: str) -> dt.date:
    if every == "week":
        return start - dt.timedelta(days=364)
    if every == "day":
        try:
            return start.replace(year=start.year - 1)
        except ValueError:  # 29 February
            return start.replace(year=start.year - 1, day=28)
    return months_later(start, -12)


@dataclass(frozen=True)
class Cell:
    """One value: records dated from `start` to before `end` (local days), for `owner` (or ANYONE)."""

    start: dt.date
    end: dt.date
    owner: Any = ANYONE
    team_of: dict[Any, Any] | None = None  # grouping by team: owner id -> team id
    dimension: str | None = None  # grouping by source, stage or product: records' `<dimension>_id`
    value: Any = None

    def holds(self, moment: dt.datetime | None) -> bool:
        return moment is not None and self.start <= local_day(moment) < self.end

    def holds_day(self, day: dt.date | None) -> bool:
        return day is not None and self.start <= day < self.end

    def mine(self, owner: Any) -> bool:
        if self.owner is ANYONE:
            return True
        if self.team_of is not None:
            return self.team_of.get(owner) == self.owner
        return owner == self.owner

    def has(self, record: Any) -> bool:
        return self.dimension is None or getattr(record, f"{self.dimension}_id") == self.value

    def at_end(self) -> dt.datetime:
        return midnight(self.end)

    def before(self, every: str) -> Cell:
        """The cell of the previous period (for KPIs computed from the period before)."""
        if every == "none":
            length = self.end - self.start
            return Cell(self.start - length, self.start, self.owner, self.team_of, self.dimension, self.value)
        return Cell(previous_period(self.start, every), self.start, self.owner, self.team_of, self.dimension, self.value)


# -- records, as the tests created them --------------------------------------------------------


@dataclass
class World:
    deals: list[Any] = field(default_factory=list)
    leads: list[Any] = field(default_factory=list)
    activities: list[Any] = field(default_factory=list)
    cases: list[Any] = field(default_factory=list)
    answers: list[Any] = field(default_factory=list)
    campaigns: list[Any] = field(default_factory=list)
    recipients: list[Any] = field(default_factory=list)
    offers: list[Any] = field(default_factory=list)
    lines: list[Any] = field(default_factory=list)
    orders: list[Any] = field(default_factory=list)
    companies: list[Any] = field(default_factory=list)  # with lifecycle dates
    probability: dict[int, int] = field(default_factory=dict)  # stage id -> win probability %
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    every: str = "month"


def ratio(numerator: float | Decimal, denominator: float | Decimal) -> float | None:
    return None if denominator == 0 else float(numerator) / float(denominator)


def average(values: Iterable[float]) -> float | None:
    items = list(values)
    return mean(items) if items else None


def days(delta: dt.timedelta) -> float:
    return delta.total_seconds() / 86400


def money(record: Any, name: str = "amount") -> Decimal:
    return getattr(record, name) * record.exchange_rate


# -- leads ---------------------------------------------------------------------------------------


def leads_in(w: World, c: Cell) -> list[Any]:
    return [x for x in w.leads if c.holds(x.created_at) and c.mine(x.owner_id) and c.has(x)]


def new_leads(w: World, c: Cell) -> int:
    return len(leads_in(w, c))


def lead_conversion_rate(w: World, c: Cell) -> float | None:
    leads = leads_in(w, c)
    return ratio(sum(1 for x in leads if x.status == "converted"), len(leads))


# -- deals ---------------------------------------------------------------------------------------


def closed_in(w: World, c: Cell, *statuses: str) -> list[Any]:
    return [d for d in w.deals if d.status in statuses and c.holds(d.closed_at) and c.mine(d.owner_id) and c.has(d)]


def won_deals(w: World, c: Cell) -> int:
    return len(closed_in(w, c, "won"))


def lost_deals(w: World, c: Cell) -> int:
    return len(closed_in(w, c, "lost"))


def win_rate(w: World, c: Cell) -> float | None:
    return ratio(len(closed_in(w, c, "won")), len(closed_in(w, c, "won", "lost")))


def win_rate_all(w: World, c: Cell) -> float | None:
    created = [d for d in w.deals if c.holds(d.created_at) and c.mine(d.owner_id) and c.has(d)]
    return ratio(sum(1 for d in created if d.status == "won"), len(created))


def won_revenue(w: World, c: Cell) -> Decimal:
    return sum((money(d) for d in closed_in(w, c, "won")), Decimal(0))


def lost_revenue(w: World, c: Cell) -> Decimal:
    return sum((money(d) for d in closed_in(w, c, "lost")), Decimal(0))


def avg_deal_value(w: World, c: Cell) -> float | None:
    return ratio(won_revenue(w, c), won_deals(w, c))


def sales_cycle_days(w: World, c: Cell) -> float | None:
    return average(days(d.closed_at - d.created_at) for d in closed_in(w, c, "won"))


def new_customer_deals(w: World, c: Cell) -> int:
    return sum(1 for d in closed_in(w, c, "won") if d.business_type == "new")


def existing_customer_deals(w: World, c: Cell) -> int:
    return sum(1 for d in closed_in(w, c, "won") if d.business_type == "existing")


def upsell_rate(w: World, c: Cell) -> float | None:
    return ratio(existing_customer_deals(w, c), won_deals(w, c))


def win_back_rate(w: World, c: Cell) -> float | None:
    lost = closed_in(w, c, "lost")

    def won_back(d: Any) -> bool:
        return any(e.won_back_from_id == d.pk and e.status == "won" and e.closed_at >= d.closed_at for e in w.deals)

    return ratio(sum(1 for d in lost if won_back(d)), len(lost))


def open_at_end(w: World, c: Cell) -> list[Any]:
    moment = c.at_end()
    return [
        d
        for d in w.deals
        if d.created_at < moment and (d.closed_at is None or d.closed_at >= moment) and c.mine(d.owner_id) and c.has(d)
    ]


def open_deals(w: World, c: Cell) -> int:
    return len(open_at_end(w, c))


def pipeline_value(w: World, c: Cell) -> Decimal:
    return sum((money(d) for d in open_at_end(w, c)), Decimal(0))


def weighted_pipeline(w: World, c: Cell) -> Decimal:
    return sum((money(d) * w.probability[d.stage_id] / 100 for d in open_at_end(w, c)), Decimal(0))


def avg_days_open(w: World, c: Cell) -> float | None:
    moment = min(c.at_end(), w.now)
    return average(days(moment - d.created_at) for d in open_at_end(w, c))


# -- customers -------------------------------------------------------------------------------------


def won_with_customer(w: World) -> list[Any]:
    return [d for d in w.deals if d.status == "won" and d.company_id is not None]


def is_first_purchase(w: World, deal: Any) -> bool:
    return not any(e.company_id == deal.company_id and e.closed_at < deal.closed_at for e in won_with_customer(w))


def first_purchases(w: World, c: Cell) -> list[Any]:
    return [
        d for d in won_with_customer(w) if c.holds(d.closed_at) and c.mine(d.owner_id) and c.has(d) and is_first_purchase(w, d)
    ]


def new_customers(w: World, c: Cell) -> int:
    return len(first_purchases(w, c))


def cac(w: World, c: Cell) -> float | None:
    spend = sum(
        (x.spend * x.exchange_rate for x in w.campaigns if c.holds_day(x.starts_on) and c.has(x)),
        Decimal(0),
    )
    return ratio(spend, len(first_purchases(w, c)))


def customers_bought(w: World, c: Cell) -> list[Any]:
    return [d for d in won_with_customer(w) if c.holds(d.closed_at) and c.mine(d.owner_id) and c.has(d)]


def clv(w: World, c: Cell) -> float | None:
    deals = customers_bought(w, c)
    return ratio(sum((money(d) for d in deals), Decimal(0)), len({d.company_id for d in deals}))


def _retained(w: World, c: Cell) -> tuple[set[Any], set[Any]]:
    earlier = {d.company_id for d in customers_bought(w, c.before(w.every))}
    again = {d.company_id for d in won_with_customer(w) if c.holds(d.closed_at)}  # from anyone
    return earlier, earlier & again


def retention_rate(w: World, c: Cell) -> float | None:
    earlier, kept = _retained(w, c)
    return ratio(len(kept), len(earlier))


def churn_rate(w: World, c: Cell) -> float | None:
    earlier, kept = _retained(w, c)
    return ratio(len(earlier - kept), len(earlier))


def customer_activity_rate(w: World, c: Cell) -> float | None:
    active = {d.company_id for d in customers_bought(w, c)}
    customers = sum(1 for d in won_with_customer(w) if d.closed_at < c.at_end() and is_first_purchase(w, d))
    return ratio(len(active), customers)


def top20_revenue_share(w: World, c: Cell) -> float | None:
    by_company: dict[Any, Decimal] = {}
    for d in customers_bought(w, c):
        by_company[d.company_id] = by_company.get(d.company_id, Decimal(0)) + money(d)
    ranked = sorted(by_company.values(), reverse=True)
    top = math.ceil(len(ranked) * Decimal("0.2"))
    return ratio(sum(ranked[:top], Decimal(0)), sum(ranked, Decimal(0)))


# -- customers by lifecycle (a company is a customer from customer_since until churned_on) ----------------------------


def active_on(w: World, c: Cell, day: dt.date) -> list[Any]:
    """Customers on `day`: a customer-since date before it, and no churn date before it."""
    return [
        x
        for x in w.companies
        if c.mine(x.owner_id)
        and x.customer_since is not None
        and x.customer_since < day
        and (x.churned_on is None or x.churned_on >= day)
    ]


def active_customers(w: World, c: Cell) -> int:
    return len(active_on(w, c, c.end))


def churned_customers(w: World, c: Cell) -> int:
    return sum(1 for x in w.companies if c.mine(x.owner_id) and c.holds_day(x.churned_on))


def became_customers(w: World, c: Cell) -> int:
    return sum(1 for x in w.companies if c.mine(x.owner_id) and c.holds_day(x.customer_since))


def customer_churn_rate_lifecycle(w: World, c: Cell) -> float | None:
    return ratio(churned_customers(w, c), len(active_on(w, c, c.start)))


def customer_retention_rate_lifecycle(w: World, c: Cell) -> float | None:
    return ratio(len(active_on(w, c, c.end)) - became_customers(w, c), len(active_on(w, c, c.start)))


# -- sales documents ----------------------------------------------------------------------------------


def offers_created(w: World, c: Cell) -> int:
    return sum(1 for x in w.offers if c.holds(x.created_at) and c.mine(x.owner_id))


def quoted_value(w: World, c: Cell) -> Decimal:
    offers = {x.id: x for x in w.offers if c.holds(x.created_at) and c.mine(x.owner_id)}
    return sum(
        (
            x.quantity * x.unit_price * (100 - x.discount_percent) / 100 * offers[x.offer_id].exchange_rate
            for x in w.lines
            if x.offer_id in offers and c.has(x)
        ),
        Decimal(0),
    )


def orders_in(w: World, c: Cell, *, cancelled: bool = False) -> list[Any]:
    return [x for x in w.orders if c.holds(x.ordered_at) and c.mine(x.owner_id) and (cancelled or x.status != "cancelled")]


def orders_created(w: World, c: Cell) -> int:
    return len(orders_in(w, c, cancelled=True))


def sales_volume(w: World, c: Cell) -> Decimal:
    return sum((money(x) for x in orders_in(w, c)), Decimal(0))


def profit(w: World, c: Cell) -> Decimal:
    return sum(((x.amount - x.cost) * x.exchange_rate for x in orders_in(w, c)), Decimal(0))


def margin(w: World, c: Cell) -> float | None:
    return ratio(profit(w, c), sales_volume(w, c))


def customer_profit(w: World, c: Cell) -> float | None:
    return ratio(profit(w, c), len({x.company_id for x in orders_in(w, c)}))


# -- activities -----------------------------------------------------------------------------------------


def activities(w: World, c: Cell, kind: str) -> list[Any]:
    return [x for x in w.activities if x.kind == kind and c.holds(x.occurred_at) and c.mine(x.owner_id)]


def calls_made(w: World, c: Cell) -> int:
    return len(activities(w, c, "call"))


def calls_outbound(w: World, c: Cell) -> int:
    return sum(1 for x in activities(w, c, "call") if x.direction == "out")


def calls_inbound(w: World, c: Cell) -> int:
    return sum(1 for x in activities(w, c, "call") if x.direction == "in")


def answered_call_rate(w: World, c: Cell) -> float | None:
    calls = activities(w, c, "call")
    return ratio(sum(1 for x in calls if x.answered is True), len(calls))


def talk_minutes(w: World, c: Cell) -> float:
    return sum(x.duration_seconds or 0 for x in activities(w, c, "call")) / 60


def emails_sent(w: World, c: Cell) -> int:
    return sum(1 for x in activities(w, c, "email") if x.direction == "out")


def meetings_held(w: World, c: Cell) -> int:
    return sum(1 for x in activities(w, c, "meeting") if x.held is True)


def meetings_per_won_deal(w: World, c: Cell) -> float | None:
    return ratio(meetings_held(w, c), won_deals(w, c))


# -- service ----------------------------------------------------------------------------------------------


def first_response_hours(w: World, c: Cell) -> float | None:
    return average(
        days(x.first_response_at - x.created_at) * 24 for x in w.cases if c.holds(x.first_response_at) and c.mine(x.owner_id)
    )


def resolution_hours(w: World, c: Cell) -> float | None:
    return average(days(x.resolved_at - x.created_at) * 24 for x in w.cases if c.holds(x.resolved_at) and c.mine(x.owner_id))


def sla_breach_rate(w: World, c: Cell) -> float | None:
    due = [x for x in w.cases if c.holds(x.response_due_at) and x.response_due_at < w.now and c.mine(x.owner_id)]
    late = [x for x in due if x.first_response_at is None or x.first_response_at > x.response_due_at]
    return ratio(len(late), len(due))


def answers(w: World, c: Cell, kind: str) -> list[Any]:
    return [x for x in w.answers if x.kind == kind and c.holds(x.answered_at) and c.mine(x.owner_id)]


def csat(w: World, c: Cell) -> float | None:
    return average(x.score for x in answers(w, c, "csat"))


def nps(w: World, c: Cell) -> float | None:
    scores = [x.score for x in answers(w, c, "nps")]
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return None if not scores else 100 * (promoters - detractors) / len(scores)


# -- marketing ----------------------------------------------------------------------------------------------


def sent(w: World, c: Cell) -> list[Any]:
    campaigns = {x.id: x for x in w.campaigns}  # a message counts for its campaign's owner and source
    return [
        x
        for x in w.recipients
        if c.holds(x.sent_at) and c.mine(campaigns[x.campaign_id].owner_id) and c.has(campaigns[x.campaign_id])
    ]


def campaign_open_rate(w: World, c: Cell) -> float | None:
    messages = sent(w, c)
    return ratio(sum(1 for x in messages if x.opened_at is not None), len(messages))


def campaign_click_rate(w: World, c: Cell) -> float | None:
    messages = sent(w, c)
    return ratio(sum(1 for x in messages if x.clicked_at is not None), len(messages))


REFERENCES: dict[str, Callable[[World, Cell], Any]] = {
    function.__name__: function
    for function in [
        new_leads,
        lead_conversion_rate,
        won_deals,
        lost_deals,
        win_rate,
        win_rate_all,
        won_revenue,
        lost_revenue,
        avg_deal_value,
        sales_cycle_days,
        new_customer_deals,
        existing_customer_deals,
        upsell_rate,
        win_back_rate,
        open_deals,
        pipeline_value,
        weighted_pipeline,
        avg_days_open,
        new_customers,
        cac,
        clv,
        retention_rate,
        churn_rate,
        customer_activity_rate,
        top20_revenue_share,
        active_customers,
        churned_customers,
        customer_churn_rate_lifecycle,
        customer_retention_rate_lifecycle,
        offers_created,
        quoted_value,
        orders_created,
        sales_volume,
        profit,
        margin,
        customer_profit,
        calls_made,
        calls_outbound,
        calls_inbound,
        answered_call_rate,
        talk_minutes,
        emails_sent,
        meetings_held,
        meetings_per_won_deal,
        first_response_hours,
        resolution_hours,
        sla_breach_rate,
        csat,
        nps,
        campaign_open_rate,
        campaign_click_rate,
    ]
}
