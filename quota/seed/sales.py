"""Products, quotes (offers with lines), orders and invoices: what was sold, for how much, at what cost.

A deal that reached the proposal stage has one quote; its lines are drawn per chunk of
deals from their own random stream, so the deal's amount (the quote total) can be set
before the lines are written and the lines come out identical when they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from quota.sales.models import InvoiceStatus, OfferStatus, OrderStatus
from quota.seed import profiles
from quota.seed.clock import Clock
from quota.seed.columns import NULL_ID, NULL_TIME, Batch, Choice, Const, Dates, Fixed, Ints, Texts, Times
from quota.seed.customers import Companies
from quota.seed.deals import CHUNK, LOST, WON, Deals
from quota.seed.people import People
from quota.seed.randomness import stream, weighted_index
from quota.seed.reference import Reference
from quota.seed.vocabulary import PRODUCT_POPULARITY, PRODUCTS

OFFER_STATUSES = tuple(s.value for s in OfferStatus)
ORDER_STATUSES = tuple(s.value for s in OrderStatus)
INVOICE_STATUSES = tuple(s.value for s in InvoiceStatus)
DRAFT, SENT, ACCEPTED, REJECTED, EXPIRED = (OFFER_STATUSES.index(s) for s in ("draft", "sent", "accepted", "rejected", "expired"))
ORDER_OPEN, FULFILLED, ORDER_CANCELLED = (ORDER_STATUSES.index(s) for s in ("open", "fulfilled", "cancelled"))
ISSUED, PAID, INVOICE_CANCELLED = (INVOICE_STATUSES.index(s) for s in ("issued", "paid", "cancelled"))


def product_prices(reference: Reference) -> tuple[np.ndarray, np.ndarray]:
    """List price and unit cost of each product in the company currency, cents."""
    price = np.array([p[2] for p in PRODUCTS], dtype=np.float64) * reference.euro
    cost = np.array([p[3] for p in PRODUCTS], dtype=np.float64) * reference.euro
    return np.round(price * 100).astype(np.int64), np.round(cost * 100).astype(np.int64)


def product_batch(reference: Reference) -> Batch:
    price, cost = product_prices(reference)
    n = len(PRODUCTS)
    return Batch(
        n,
        {
            "id": Ints(np.arange(1, n + 1)),
            "name": Texts([p[0] for p in PRODUCTS]),
            "sku": Texts([f"RW-{i:04d}" for i in range(1, n + 1)]),
            "series": Texts([p[1] for p in PRODUCTS]),
            "price": Fixed(price),
            "cost": Fixed(cost),
            "currency": Const(reference.currency),
            "is_active": Const(True),
        },
    )


def quoted(deals: Deals, reference: Reference) -> np.ndarray:
    """Deals with a quote: those that have entered the proposal stage."""
    return deals.stage_at[:, reference.proposal_stage] != NULL_TIME


@dataclass
class QuoteLines:
    deal: np.ndarray  # 0-based deal index, grouped by deal in deal order
    product: np.ndarray  # 0-based
    quantity: np.ndarray  # whole units
    unit_price: np.ndarray  # deal currency, cents
    unit_cost: np.ndarray
    discount: np.ndarray  # percent
    total: np.ndarray  # quantity x price less discount, rounded half-even to the cent (as OfferLine.total)
    cost: np.ndarray


def quote_lines(deals: Deals, start: int, stop: int, reference: Reference, seed: int) -> QuoteLines:
    """The quote lines of deals[start:stop], sized to each deal's estimate."""
    rng = stream(seed, "quote-lines", start // CHUNK)
    assert deals.rate is not None
    has = np.flatnonzero(quoted(deals, reference)[start:stop]) + start
    counts = 1 + rng.choice(len(profiles.LINES_PER_QUOTE), size=len(has), p=np.array(profiles.LINES_PER_QUOTE))
    deal = np.repeat(has, counts)
    n = len(deal)
    product = weighted_index(rng, np.array(PRODUCT_POPULARITY, dtype=float), n)
    share = rng.gamma(1.0, size=n)
    share /= np.bincount(np.repeat(np.arange(len(has)), counts), weights=share)[np.repeat(np.arange(len(has)), counts)]
    price, cost = product_prices(reference)
    discount = np.array(list(profiles.DISCOUNTS))[
        rng.choice(len(profiles.DISCOUNTS), size=n, p=np.array(list(profiles.DISCOUNTS.values())))
    ]
    quantity = np.maximum(1, np.round(deals.estimate[deal] * share / price[product])).astype(np.int64)
    rate = deals.rate[deal]
    unit_price = np.maximum(1, (price[product] * 10**8 + rate // 2) // rate)
    unit_cost = (cost[product] * 10**8 + rate // 2) // rate
    whole, rest = np.divmod(quantity * unit_price * (100 - discount), 100)
    total = whole + ((rest > 50) | ((rest == 50) & (whole % 2 == 1)))
    return QuoteLines(deal, product, quantity, unit_price, unit_cost, discount, total, quantity * unit_cost)


def price_quotes(deals: Deals, reference: Reference, seed: int) -> None:
    """Set each quoted deal's amount to its quote total, and keep the quote's cost for the order."""
    assert deals.amount is not None
    deals.line_count = np.zeros(len(deals), dtype=np.int64)
    deals.quote_cost = np.zeros(len(deals), dtype=np.int64)
    for start in range(0, len(deals), CHUNK):
        lines = quote_lines(deals, start, min(start + CHUNK, len(deals)), reference, seed)
        deals.line_count += np.bincount(lines.deal, minlength=len(deals))
        np.add.at(deals.quote_cost, lines.deal, lines.cost)
        has = np.unique(lines.deal)
        deals.amount[has] = np.bincount(lines.deal, weights=lines.total, minlength=len(deals))[has].astype(np.int64)


def offer_ids(deals: Deals) -> np.ndarray:
    """The id of each deal's quote (offers are numbered in deal order), -1 where there is none."""
    assert deals.line_count is not None
    has = deals.line_count > 0
    return np.where(has, np.cumsum(has), NULL_ID)


def offer_batches(deals: Deals, people: People, reference: Reference, clock: Clock, seed: int) -> Iterator[Batch]:
    assert deals.amount is not None and deals.quote_cost is not None and deals.currency is not None
    ids = offer_ids(deals)
    at_stage = reference.proposal_stage
    for start in range(0, len(deals), CHUNK):
        rng = stream(seed, "offers", start // CHUNK)
        index = np.flatnonzero(ids[start : start + CHUNK] > 0) + start
        n = len(index)
        created = deals.stage_at[index, at_stage]
        valid_until = clock.local_day(created) + profiles.QUOTE_VALID_DAYS
        status = deals.status[index]
        lapsed = valid_until < clock.last_day
        offer_status = np.select(
            [status == WON, status == LOST, lapsed, (clock.as_of - created < 2 * 86_400) & (rng.random(n) < 0.5)],
            [ACCEPTED, np.where(rng.random(n) < 0.7, REJECTED, EXPIRED), EXPIRED, DRAFT],
            SENT,
        )
        yield Batch(
            n,
            {
                "id": Ints(ids[index]),
                "number": Texts([f"Q-{i:07d}" for i in ids[index].tolist()]),
                "deal_id": Ints(index + 1),
                "company_id": Ints(deals.company[index] + 1),
                "owner_id": Ints(people.seller_ids[deals.seller[index]]),
                "status": Choice(offer_status, OFFER_STATUSES),
                "currency": Choice(deals.currency[index], reference.rates.currencies),
                "exchange_rate": Fixed(reference.rates.on(deals.currency[index], clock.local_day(created)), places=8),
                "amount": Fixed(deals.amount[index]),
                "cost": Fixed(deals.quote_cost[index]),
                "created_at": Times(created),
                "valid_until": Dates(valid_until),
            },
        )


def offer_line_batches(deals: Deals, reference: Reference, seed: int) -> Iterator[Batch]:
    ids = offer_ids(deals)
    next_id = 1
    for start in range(0, len(deals), CHUNK):
        lines = quote_lines(deals, start, min(start + CHUNK, len(deals)), reference, seed)
        n = len(lines.deal)
        yield Batch(
            n,
            {
                "id": Ints(np.arange(next_id, next_id + n)),
                "offer_id": Ints(ids[lines.deal]),
                "product_id": Ints(lines.product + 1),
                "quantity": Fixed(lines.quantity * 1000, places=3),
                "unit_price": Fixed(lines.unit_price),
                "unit_cost": Fixed(lines.unit_cost),
                "discount_percent": Fixed(lines.discount * 100),
            },
        )
        next_id += n


@dataclass
class Orders:
    deal: np.ndarray  # 0-based deal index; order id = index + 1 (numbered in order of ordering)
    ordered: np.ndarray
    status: np.ndarray  # index into ORDER_STATUSES
    amount: np.ndarray
    cost: np.ndarray

    def __len__(self) -> int:
        return len(self.deal)


def build_orders(deals: Deals, companies: Companies, clock: Clock, seed: int) -> Orders:
    """One order per won deal, at the quoted cost (or the customer's usual margin); a few customers cost us money."""
    assert deals.amount is not None and deals.quote_cost is not None and deals.line_count is not None
    rng = stream(seed, "orders")
    won = np.flatnonzero(deals.status == WON)
    ordered = clock.working_instants(rng, deals.closed[won], np.minimum(deals.closed[won] + 2 * 86_400, clock.as_of))
    order = np.argsort(ordered, kind="stable")
    won, ordered = won[order], ordered[order]
    n = len(won)
    amount = deals.amount[won]
    company = deals.company[won]
    usual = (amount * companies.cost_ratio[company]).astype(np.int64)
    cost = np.where(deals.line_count[won] > 0, deals.quote_cost[won], usual)
    markup = rng.uniform(*profiles.LOSS_MAKING_MARKUP, n)
    cost = np.where(companies.loss_making[company], (amount * markup).astype(np.int64), cost)
    fulfilled = clock.as_of - ordered > 14 * 86_400
    status = np.where(rng.random(n) < profiles.ORDER_CANCELLED, ORDER_CANCELLED, np.where(fulfilled, FULFILLED, ORDER_OPEN))
    return Orders(won, ordered, status, amount, cost)


def order_batches(orders: Orders, deals: Deals, people: People, reference: Reference, clock: Clock) -> Iterator[Batch]:
    assert deals.currency is not None
    quotes = offer_ids(deals)
    for start in range(0, len(orders), CHUNK):
        stop = min(start + CHUNK, len(orders))
        deal = orders.deal[start:stop]
        ids = np.arange(start + 1, stop + 1)
        yield Batch(
            stop - start,
            {
                "id": Ints(ids),
                "number": Texts([f"SO-{i:07d}" for i in ids.tolist()]),
                "company_id": Ints(deals.company[deal] + 1),
                "deal_id": Ints(deal + 1),
                "offer_id": Ints(quotes[deal], nullable=True),
                "owner_id": Ints(people.seller_ids[deals.seller[deal]]),
                "status": Choice(orders.status[start:stop], ORDER_STATUSES),
                "amount": Fixed(orders.amount[start:stop]),
                "cost": Fixed(orders.cost[start:stop]),
                "currency": Choice(deals.currency[deal], reference.rates.currencies),
                "exchange_rate": Fixed(
                    reference.rates.on(deals.currency[deal], clock.local_day(orders.ordered[start:stop])), places=8
                ),
                "ordered_at": Times(orders.ordered[start:stop]),
                "external_id": Const(""),
            },
        )


@dataclass
class Invoices:
    order: np.ndarray  # 0-based order index; invoice id = index + 1
    issued: np.ndarray
    due: np.ndarray  # epoch day
    paid: np.ndarray  # NULL_TIME while unpaid
    status: np.ndarray
    amount: np.ndarray
    cost: np.ndarray

    def __len__(self) -> int:
        return len(self.order)


def build_invoices(orders: Orders, clock: Clock, seed: int) -> Invoices:
    """An invoice per order (two instalments for some), paid on time, late or not yet."""
    rng = stream(seed, "invoices")
    n = len(orders)
    split = rng.random(n) < profiles.SPLIT_INVOICE
    order = np.repeat(np.arange(n), np.where(split, 2, 1))
    second = np.zeros(len(order), dtype=bool)
    second[1:] = order[1:] == order[:-1]
    m = len(order)
    first_issue = orders.ordered[order] + rng.integers(0, 5 * 86_400, m)
    issued = clock.working_instants(rng, first_issue + second * 30 * 86_400, first_issue + second * 31 * 86_400)
    halves = np.where(split[order], 2, 1)
    amount = orders.amount[order] // halves + np.where(~second & split[order], orders.amount[order] % 2, 0)
    cost = orders.cost[order] // halves + np.where(~second & split[order], orders.cost[order] % 2, 0)
    terms = np.array(profiles.PAYMENT_DAYS)[rng.integers(0, len(profiles.PAYMENT_DAYS), m)]
    due = clock.local_day(issued) + terms
    roll = rng.random(m)
    on_time = issued + (rng.random(m) * terms * 86_400).astype(np.int64)
    late = clock.at(due, 0) + rng.integers(1, 40 * 86_400, m)
    paid = np.select(
        [roll < profiles.INVOICE_PAID_ON_TIME, roll < profiles.INVOICE_PAID_ON_TIME + profiles.INVOICE_PAID_LATE],
        [on_time, late],
        NULL_TIME,
    )
    cancelled = orders.status[order] == ORDER_CANCELLED
    paid = np.where((paid > clock.as_of) | cancelled, NULL_TIME, paid)
    status = np.where(cancelled, INVOICE_CANCELLED, np.where(paid != NULL_TIME, PAID, ISSUED))
    keep = issued <= clock.as_of  # not billed yet
    return Invoices(order[keep], issued[keep], due[keep], paid[keep], status[keep], amount[keep], cost[keep])


def invoice_batches(
    invoices: Invoices, orders: Orders, deals: Deals, people: People, reference: Reference, clock: Clock
) -> Iterator[Batch]:
    assert deals.currency is not None
    for start in range(0, len(invoices), CHUNK):
        stop = min(start + CHUNK, len(invoices))
        order = invoices.order[start:stop]
        deal = orders.deal[order]
        ids = np.arange(start + 1, stop + 1)
        issued = invoices.issued[start:stop]
        yield Batch(
            stop - start,
            {
                "id": Ints(ids),
                "number": Texts([f"INV-{i:07d}" for i in ids.tolist()]),
                "company_id": Ints(deals.company[deal] + 1),
                "order_id": Ints(order + 1),
                "owner_id": Ints(people.seller_ids[deals.seller[deal]]),
                "status": Choice(invoices.status[start:stop], INVOICE_STATUSES),
                "amount": Fixed(invoices.amount[start:stop]),
                "cost": Fixed(invoices.cost[start:stop]),
                "currency": Choice(deals.currency[deal], reference.rates.currencies),
                "exchange_rate": Fixed(reference.rates.on(deals.currency[deal], clock.local_day(issued)), places=8),
                "issued_at": Times(issued),
                "due_date": Dates(invoices.due[start:stop]),
                "paid_at": Times(invoices.paid[start:stop]),
                "external_id": Const(""),
            },
        )
