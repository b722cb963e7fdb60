"""Deals: where they come from, how they move through the pipeline, and how they end.

Every deal is drawn as a whole story (creation, stage moves, close) before any row is
written, so the deal row, its stage history, quotes, orders and activities all agree.
Deal ids follow creation time. A "won back" deal reopens business lost earlier.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from quota.crm.choices import BusinessType, DealStatus
from quota.seed import profiles
from quota.seed.clock import LEAD_IN_DAYS, Clock
from quota.seed.columns import NULL_ID, NULL_TIME, Batch, Choice, Const, Dates, Fixed, Ints, Texts, Times, one_based
from quota.seed.custom import DEAL_CONTRACT, custom_json
from quota.seed.customers import Companies
from quota.seed.leads import Leads
from quota.seed.people import People
from quota.seed.randomness import stream, weighted_index
from quota.seed.reference import SOURCE_KEYS, Reference
from quota.seed.vocabulary import DEAL_TOPICS, LOSS_NOTES

STATUSES = (DealStatus.OPEN.value, DealStatus.WON.value, DealStatus.LOST.value)
OPEN, WON, LOST = range(3)
NEVER = np.iinfo(np.int64).max  # the close of a deal nobody will close
CHUNK = 50_000
MIN_CYCLE_SECONDS = 1800


@dataclass
class Deals:
    """One array per attribute, one entry per deal (id = index + 1 once sorted by creation)."""

    created: np.ndarray
    closed: np.ndarray  # NULL_TIME while open
    status: np.ndarray  # OPEN, WON or LOST
    stage_at: np.ndarray  # (deals, stages): when the deal entered each stage, NULL_TIME if it did not (yet)
    stage: np.ndarray  # index of the stage it is in (or closed from)
    seller: np.ndarray  # index into people.seller_ids
    company: np.ndarray  # 0-based
    contact: np.ndarray  # 0-based, or -1
    source: np.ndarray  # index into SOURCE_KEYS, or -1
    lead: np.ndarray  # 0-based lead index, or -1
    estimate: np.ndarray  # first estimate in the company currency, cents
    expected_close: np.ndarray  # epoch day
    loss_reason: np.ndarray  # index into reference loss reasons, or -1
    loss_note: np.ndarray  # index into the reason's notes
    topic: np.ndarray  # index into DEAL_TOPICS
    won_back_from: np.ndarray  # 0-based deal index, or -1
    existing: np.ndarray | None = None  # bool: the company had already bought (computed once all deals exist)
    currency: np.ndarray | None = None  # index into reference.rates.currencies
    rate: np.ndarray | None = None  # scaled exchange rate on the creation day
    amount: np.ndarray | None = None  # in the deal currency, cents (the quote's total once there is one)
    line_count: np.ndarray | None = None  # lines on the deal's quote (0: no quote)
    quote_cost: np.ndarray | None = None  # cost of the quoted lines, deal currency, cents

    def __len__(self) -> int:
        return len(self.created)

    def take(self, order: np.ndarray) -> Deals:
        """The deals at `order` (indexes or a mask), every attribute alike."""
        picked: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            picked[f.name] = None if value is None else value[order]
        return Deals(**picked)

    def put(self, where: np.ndarray, other: Deals) -> None:
        for f in fields(self):
            value = getattr(other, f.name)
            if value is not None:
                getattr(self, f.name)[where] = value

    @property
    def stage_changed(self) -> np.ndarray:
        return self.stage_at[np.arange(len(self)), self.stage]

    @property
    def active_until(self) -> np.ndarray:
        """The end of each deal's working life so far: its close, or now for open deals."""
        return np.where(self.status == OPEN, np.iinfo(np.int64).min, self.closed).clip(self.created)


def concat(parts: list[Deals]) -> Deals:
    return Deals(
        **{
            f.name: np.concatenate([getattr(p, f.name) for p in parts])
            for f in fields(Deals)
            if getattr(parts[0], f.name) is not None
        }
    )


def _stretched(weights: tuple[float, ...], n: int) -> np.ndarray:
    """A distribution over n stages shaped like `weights` (given for a four-stage pipeline)."""
    at = np.linspace(0, len(weights) - 1, n)
    shaped = np.interp(at, np.arange(len(weights)), np.array(weights))
    return shaped / shaped.sum()


class Storyteller:
    """Draws deals' stories: size, outcome, cycle, stage path, planned and real close."""

    def __init__(self, people: People, companies: Companies, reference: Reference, clock: Clock) -> None:
        self.people, self.companies, self.reference, self.clock = people, companies, reference, clock
        self.stages = len(reference.stage_ids)
        self.source_size = np.array([profiles.SOURCES[k].size for k in SOURCE_KEYS] + [1.0])  # [-1]: no source
        self.source_win = np.array([profiles.SOURCES[k].win for k in SOURCE_KEYS] + [1.0])
        weights = np.array([profiles.LOSS_REASON_WEIGHTS.get(name, 1) for name in reference.loss_reason_names], dtype=float)
        self.loss_weights = weights

    def tell(
        self,
        rng: np.random.Generator,
        created: np.ndarray,
        seller: np.ndarray,
        company: np.ndarray,
        contact: np.ndarray,
        source: np.ndarray,
        lead: np.ndarray,
        win_factor: float = 1.0,
    ) -> Deals:
        n, clock = len(created), self.clock
        estimate = self._estimate(rng, seller, company, source)
        relative = estimate / 100 / (profiles.MEDIAN_DEAL * self.reference.euro)
        won, stalled, cycle, closing = self._outcome(rng, created, seller, source, relative, win_factor)
        status = np.where(closing <= clock.as_of, np.where(won, WON, LOST), OPEN)
        # Stalled deals drift through their early stages and then stop moving.
        path_end = np.where(stalled, created + cycle * 3, closing)
        stage_at = self._stage_times(rng, created, path_end, won & ~stalled)
        # The stage a deal is in (or closed from) is the last one it entered: the highest column set.
        stage = self.stages - 1 - np.argmax((stage_at != NULL_TIME)[:, ::-1], axis=1)
        planned = (cycle * rng.lognormal(np.log(profiles.PLANNED_CYCLE_FACTOR), 0.35, n)).astype(np.int64)
        return Deals(
            created=created,
            closed=np.where(status == OPEN, NULL_TIME, closing),
            status=status,
            stage_at=stage_at,
            stage=stage,
            seller=seller,
            company=company,
            contact=contact,
            source=source,
            lead=lead,
            estimate=estimate,
            expected_close=clock.local_day(created + planned),
            loss_reason=np.where(status == LOST, weighted_index(rng, self.loss_weights, n), -1),
            loss_note=rng.integers(0, 3, n),
            topic=rng.integers(0, len(DEAL_TOPICS), n),
            won_back_from=np.full(n, -1, dtype=np.int64),
        )

    def _estimate(self, rng: np.random.Generator, seller: np.ndarray, company: np.ndarray, source: np.ndarray) -> np.ndarray:
        """First estimate in company-currency cents: the rep's usual size, the source's, bigger for big accounts."""
        euro = self.reference.euro
        size = self.people.seller_size[seller] * self.source_size[source] * self.companies.weight[company] ** 0.15
        estimate = np.maximum(200 * euro, rng.lognormal(np.log(profiles.MEDIAN_DEAL * euro * size), profiles.DEAL_SIZE_SPREAD))
        return (estimate // 10 * 10).astype(np.int64) * 100

    def _outcome(
        self,
        rng: np.random.Generator,
        created: np.ndarray,
        seller: np.ndarray,
        source: np.ndarray,
        relative: np.ndarray,
        win_factor: float,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(won, stalled, cycle seconds, closing instant): bigger deals take longer and win a little less."""
        n, clock = len(created), self.clock
        won_cycle = rng.lognormal(np.log(profiles.WON_CYCLE_DAYS * relative**0.25 * 86_400), 0.7)
        lost_cycle = rng.lognormal(np.log(profiles.LOST_CYCLE_DAYS * 86_400), 0.8, size=n)
        would_close = clock.local_day(created + won_cycle.astype(np.int64)).astype("datetime64[D]")
        month = would_close.astype("datetime64[M]").astype(np.int64) % 12 + 1
        season = np.array([profiles.CLOSE_MONTH_WIN[m] for m in range(1, 13)])[month - 1]
        skill = self.people.seller_win[seller] * self.source_win[source]
        p_win = profiles.BASE_WIN_RATE * skill * relative**-0.08 * season * win_factor
        won = rng.random(n) < p_win.clip(0.03, 0.9)
        stalled = rng.random(n) < profiles.STALLED_SHARE
        cycle = np.maximum(MIN_CYCLE_SECONDS, np.where(won, won_cycle, lost_cycle)).astype(np.int64)
        closing = clock.working_instants(rng, created + cycle, created + cycle + 3 * 86_400)
        return won, stalled, cycle, np.where(stalled, NEVER, closing)

    def _stage_times(self, rng: np.random.Generator, created: np.ndarray, path_end: np.ndarray, wins: np.ndarray) -> np.ndarray:
        """(deals, stages) matrix of when each deal entered each stage, NULL_TIME where it did not (yet).

        Wins mostly go through every stage (some skip one, some close from the one before last);
        losses drop out early more often than late. Moves after `as_of` have not happened yet.
        """
        n, stages, last = len(created), self.stages, self.stages - 1
        lost_reach = rng.choice(stages, size=n, p=_stretched(profiles.LOST_AT_STAGE, stages))
        won_reach = np.where(rng.random(n) < profiles.WON_BEFORE_LAST_STAGE, max(0, last - 1), last)
        reach = np.where(wins, won_reach, lost_reach)
        skipping = wins & (reach >= 2) & (rng.random(n) < profiles.WON_SKIPPING_A_STAGE)
        skipped = np.where(skipping, 1 + (rng.random(n) * (reach - 1)).astype(np.int64), 0)
        moves = reach - skipping
        # `moves` sorted points in time between creation and the end of the path, in working hours.
        fractions = rng.random((n, max(1, last)))
        fractions[np.arange(max(1, last)) >= moves[:, None]] = 2.0
        fractions.sort(axis=1)
        raw = created[:, None] + (fractions.clip(0, 1) * (path_end - created)[:, None]).astype(np.int64)
        low = np.broadcast_to(created[:, None], raw.shape)
        high = np.broadcast_to(path_end[:, None], raw.shape)
        at = self.clock.working_instants(rng, raw.ravel(), np.minimum(raw + 86_400, high).ravel()).reshape(raw.shape)
        at = np.where(fractions <= 1.0, at.clip(low, high), NEVER)
        at.sort(axis=1)
        stage_at = np.full((n, stages), NULL_TIME, dtype=np.int64)
        stage_at[:, 0] = created
        for j in range(1, stages):
            move = np.where(skipping & (j > skipped), j - 2, j - 1).clip(0, at.shape[1] - 1)
            when = at[np.arange(n), move]
            entered = (j <= reach) & (j != skipped) & (when <= self.clock.as_of)
            stage_at[:, j] = np.where(entered, when, NULL_TIME)
        return stage_at


def build_deals(
    total: int, people: People, companies: Companies, leads: Leads, reference: Reference, clock: Clock, seed: int
) -> Deals:
    """`total` deals: from converted leads, direct business, and a few win-backs, sorted by creation."""
    rng = stream(seed, "deals")
    teller = Storyteller(people, companies, reference, clock)
    seller_of_user = np.full(int(people.seller_ids.max()) + 1, -1, dtype=np.int64)
    seller_of_user[people.seller_ids] = np.arange(len(people.seller_ids))

    converted = leads.converted_ids
    from_leads = teller.tell(
        rng,
        leads.converted[converted],
        seller_of_user[leads.owner[converted]],
        leads.company[converted],
        leads.contact[converted],
        leads.source[converted],
        converted,
    )
    n_direct = total - len(converted)
    created = clock.seasonal_instants(rng, n_direct, LEAD_IN_DAYS)
    company = companies.pick(rng, created)
    # Account managers sell to their own accounts; sometimes a colleague brings the business.
    account_seller = seller_of_user[companies.owner[company]]
    seller = np.where(rng.random(n_direct) < 0.85, account_seller, weighted_index(rng, people.seller_share, n_direct))
    direct_shares = np.array([profiles.SOURCES[k].direct_share for k in SOURCE_KEYS])
    source = rng.choice(len(SOURCE_KEYS), size=n_direct, p=direct_shares / direct_shares.sum())
    direct = teller.tell(rng, created, seller, company, companies.pick_contact(rng, company), source, np.full(n_direct, -1))
    deals = concat([from_leads, direct])

    _win_back(deals, len(from_leads), teller, rng, reference, clock, round(total * profiles.WIN_BACK_SHARE))
    _close_some_this_month(deals, teller, rng, clock)
    deals = _sorted_by_creation(deals)
    deals.existing = _repeat_business(deals, len(companies))
    _price(deals, reference, clock, rng)
    return deals


def _win_back(
    deals: Deals,
    first_direct: int,
    teller: Storyteller,
    rng: np.random.Generator,
    reference: Reference,
    clock: Clock,
    wanted: int,
) -> None:
    """Turn some direct deals into second attempts at business lost earlier (after the reason's follow-up delay)."""
    follow_up = np.array([-1 if d is None else d for d in reference.loss_reason_follow_up_days])
    lost = np.flatnonzero((deals.status == LOST) & (follow_up[deals.loss_reason.clip(0)] >= 0))
    again = deals.closed[lost] + follow_up[deals.loss_reason[lost]] * 86_400 + rng.integers(0, 30 * 86_400, len(lost))
    fits = again < clock.as_of - 86_400
    origins = lost[fits]
    pool = np.setdiff1d(np.arange(first_direct, len(deals)), origins)
    k = min(wanted, len(origins), len(pool))
    if not k:
        return
    chosen = rng.choice(len(origins), size=k, replace=False)
    origins, starts = origins[chosen], again[fits][chosen]
    targets = rng.choice(pool, size=k, replace=False)
    created = clock.working_instants(rng, starts, np.minimum(starts + 2 * 86_400, clock.as_of))
    retold = teller.tell(
        rng,
        created,
        deals.seller[origins],
        deals.company[origins],
        deals.contact[origins],
        deals.source[origins],
        np.full(k, -1),
        win_factor=1.3,  # they know us already
    )
    retold.won_back_from = origins
    deals.put(targets, retold)


def _close_some_this_month(deals: Deals, teller: Storyteller, rng: np.random.Generator, clock: Clock) -> None:
    """Every seller has a win this month (even on the 1st), so current-period dashboards always show some.

    All but the one having a slow month (people.slow_seller): someone is off pace even on the 1st.
    """
    month_start = clock.month_start
    won_now = (deals.status == WON) & (deals.closed >= month_start)
    earliest = np.maximum(month_start, deals.stage_changed + 60)
    closable = (deals.status == OPEN) & (earliest < clock.as_of - 60)
    for seller in range(len(teller.people.seller_ids)):
        mine = deals.seller == seller
        if (won_now & mine).any() or seller == teller.people.slow_seller:
            continue
        candidates = np.flatnonzero(mine & closable)
        if not len(candidates):
            continue
        deal = candidates[rng.integers(len(candidates))]
        deals.closed[deal] = clock.working_instants(rng, earliest[deal : deal + 1], np.array([clock.as_of]))[0]
        deals.status[deal] = WON
        deals.loss_reason[deal] = -1


def _sorted_by_creation(deals: Deals) -> Deals:
    order = np.argsort(deals.created, kind="stable")
    new_index = np.empty_like(order)
    new_index[order] = np.arange(len(order))
    deals = deals.take(order)
    deals.won_back_from = np.where(deals.won_back_from >= 0, new_index[deals.won_back_from.clip(0)], -1)
    return deals


def _repeat_business(deals: Deals, n_companies: int) -> np.ndarray:
    """A deal is existing business when its company had already won a deal with us when it was created."""
    first_win = np.full(n_companies, NEVER, dtype=np.int64)
    won = deals.status == WON
    np.minimum.at(first_win, deals.company[won], deals.closed[won])
    return deals.created > first_win[deals.company]


def _price(deals: Deals, reference: Reference, clock: Clock, rng: np.random.Generator) -> None:
    """Currency (a few customers pay in USD, EUR or GBP), the rate of the creation day, the amount in that currency."""
    rates = reference.rates
    n = len(deals)
    roll = rng.random(n)
    currency = np.zeros(n, dtype=np.int64)
    bound = 0.0
    for code, share in enumerate(profiles.FOREIGN_CURRENCY_SHARES[: len(rates.currencies) - 1], start=1):
        currency[(roll >= bound) & (roll < bound + share)] = code
        bound += share
    deals.currency = currency
    deals.rate = rates.on(currency, clock.local_day(deals.created))
    # In the deal's currency, rounded to tens.
    deals.amount = (deals.estimate * 10**8 // deals.rate) // 1000 * 1000
    deals.amount = np.maximum(deals.amount, 1000)


def deal_batches(deals: Deals, people: People, companies: Companies, reference: Reference) -> Iterator[Batch]:
    stage_ids = np.array(reference.stage_ids)
    source_ids = np.array([*reference.source_ids, NULL_ID])
    reason_ids = np.array([*reference.loss_reason_ids, NULL_ID])
    notes = [LOSS_NOTES.get(name, ("", "", "")) for name in reference.loss_reason_names]
    note_labels = [note for reason in notes for note in reason] + [""]
    for start in range(0, len(deals), CHUNK):
        stop = min(start + CHUNK, len(deals))
        part = deals.take(np.arange(start, stop))
        n = stop - start
        titles = [
            f"{companies.names[c]}: {DEAL_TOPICS[t]}" for c, t in zip(part.company.tolist(), part.topic.tolist(), strict=True)
        ]
        lost = part.status == LOST
        assert part.existing is not None and part.amount is not None and part.rate is not None and part.currency is not None
        yield Batch(
            n,
            {
                "id": Ints(np.arange(start + 1, stop + 1)),
                "title": Texts(titles),
                "company_id": Ints(part.company + 1),
                "contact_id": Ints(one_based(part.contact), nullable=True),
                "pipeline_id": Const(reference.pipeline_id),
                "stage_id": Ints(stage_ids[part.stage]),
                "owner_id": Ints(people.seller_ids[part.seller]),
                "amount": Fixed(part.amount),
                "currency": Choice(part.currency, reference.rates.currencies),
                "exchange_rate": Fixed(part.rate, places=8),
                "status": Choice(part.status, STATUSES),
                "loss_reason_id": Ints(reason_ids[part.loss_reason], nullable=True),
                "loss_note": Choice(
                    np.where(lost, part.loss_reason.clip(0) * 3 + part.loss_note, len(note_labels) - 1), note_labels
                ),
                "business_type": Choice(part.existing.astype(np.int64), (BusinessType.NEW.value, BusinessType.EXISTING.value)),
                "source_id": Ints(source_ids[part.source], nullable=True),
                "lead_id": Ints(one_based(part.lead), nullable=True),
                "won_back_from_id": Ints(one_based(part.won_back_from), nullable=True),
                "expected_close_date": Dates(part.expected_close),
                "created_at": Times(part.created),
                "closed_at": Times(part.closed),
                "stage_changed_at": Times(part.stage_changed),
                "external_id": Const(""),
                # By the deal's company, so a customer's deals share their contract.
                "custom": Choice(*custom_json(DEAL_CONTRACT, part.company, 0)),
            },
        )
