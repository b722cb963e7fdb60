"""What deals' expected close dates and amounts were before they became what they are: the revisions reps made.

Many deals were first expected sooner than the date they have now (seed.deals plans it about when they close):
when that first date came and the deal was still open, the rep pushed it out, sometimes again, sometimes out of
the month or quarter it was expected in. Some amounts were revised while the deal was open (the scope grew, a
discount was given). The deal rows keep their values, the last ones; the revisions, with the stage changes, make
the history of the deals that had any (seed.history.revised_state_batches). Drawn as whole columns, a few passes
over the deals whatever their number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quota.seed import profiles
from quota.seed.clock import Clock
from quota.seed.columns import NULL_DAY, SECONDS_PER_DAY
from quota.seed.deals import OPEN, Deals
from quota.seed.randomness import stream, weighted_index

NO_AMOUNT = -1  # a revision that leaves the amount as it was


@dataclass
class Revisions:
    """The values of the revised deals over time, grouped by deal in deal order, in time order within each deal.

    Each revised deal's first row is at its creation and holds both values it began with; each later row holds what
    changed then: a new expected close date (else NULL_DAY) and/or a new amount (else NO_AMOUNT). The deal's last
    values are those of its row in crm_deal.
    """

    deal: np.ndarray  # 0-based deal index
    at: np.ndarray  # instant
    expected_close: np.ndarray  # epoch day, or NULL_DAY
    amount: np.ndarray  # deal currency, cents, or NO_AMOUNT

    def __len__(self) -> int:
        return len(self.deal)

    def of(self, start: int, stop: int) -> Revisions:
        """The rows of deals[start:stop]."""
        first, last = np.searchsorted(self.deal, [start, stop])
        return Revisions(self.deal[first:last], self.at[first:last], self.expected_close[first:last], self.amount[first:last])


def revise(deals: Deals, clock: Clock, seed: int) -> Revisions:
    """Draw the deals' revisions, ending at the values the deals have now."""
    assert deals.amount is not None
    rng = stream(seed, "revisions")
    # Revisions happen while a deal is open: until its close, or until now.
    ends = np.where(deals.status == OPEN, clock.as_of, deals.closed)
    slip_deal, slip_at, slip_to, first_expected = _slips(deals, ends, clock, rng)
    amount_deal, amount_at, amount_to, first_amount = _amount_changes(deals, ends, clock, rng)
    revised = np.union1d(slip_deal, amount_deal)
    deal = np.concatenate([revised, slip_deal, amount_deal])
    at = np.concatenate([deals.created[revised], slip_at, amount_at])
    order = np.lexsort((at, deal))  # a revision is always after the creation
    return Revisions(
        deal=deal[order],
        at=at[order],
        expected_close=np.concatenate([first_expected[revised], slip_to, np.full(len(amount_deal), NULL_DAY)])[order],
        amount=np.concatenate([first_amount[revised], np.full(len(slip_deal), NO_AMOUNT), amount_to])[order],
    )


def _slips(
    deals: Deals, ends: np.ndarray, clock: Clock, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(deal, instant, new expected close) of each push, and every deal's first expected close date.

    Drawn back from the date seed.deals planned (about when the deal closes): each push came some weeks after the
    date before it, and was made around that date (a week either side) while the deal was open. A deal's first
    date was planned a few days after its creation at the earliest; a deal whose pushes do not fit its life (a
    short one, a date still far ahead) was not pushed. Then an open deal whose planned date came is pushed on
    (`_pushed_on`), and has the date of its last push now.
    """
    n, deepest = len(deals), len(profiles.SLIP_COUNTS) - 1
    wanted = weighted_index(rng, np.array(profiles.SLIP_COUNTS), n)
    planned_from = clock.local_day(deals.created) + profiles.FIRST_PLAN_DAYS
    # A short deal slips by days, a long one by weeks.
    push = _push_days(rng, (n, deepest), (deals.expected_close - planned_from)[:, None] * profiles.SLIP_OF_PLAN)
    # dates[:, j]: the expected close date j pushes before the planned one (j = 0); earlier as j grows.
    dates = deals.expected_close[:, None] - np.concatenate([np.zeros((n, 1), dtype=np.int64), push.cumsum(axis=1)], axis=1)
    pushes = np.minimum(wanted, (dates[:, 1:] >= planned_from[:, None]).sum(axis=1))
    # at[:, j - 1]: when dates[:, j] was pushed to dates[:, j - 1]; the earliest push first.
    at = np.zeros((n, deepest), dtype=np.int64)
    last = deals.created.copy()
    for j in range(deepest, 0, -1):
        at[:, j - 1] = _near(dates[:, j], last, clock, rng, profiles.SLIP_REVIEW_DAYS)
        last = np.where(j <= pushes, at[:, j - 1], last)
    pushes[last >= ends] = 0  # the last push would come after the close (or today)
    last[pushes == 0] = deals.created[pushes == 0]
    deal, depth = np.nonzero(np.arange(1, deepest + 1) <= pushes[:, None])
    later_deal, later_at, later_to = _pushed_on(deals, last, clock, rng)
    return (
        np.concatenate([deal, later_deal]),
        np.concatenate([at[deal, depth], later_at]),
        np.concatenate([dates[deal, depth], later_to]),
        dates[np.arange(n), pushes],
    )


def _pushed_on(
    deals: Deals, last: np.ndarray, clock: Clock, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(deal, instant, new expected close) of the pushes of open deals after their planned date; sets their date now.

    Each time an open deal's date comes (or soon after, at a review of the overdue deals), its rep pushes it on
    with the round's chance; once they let it pass, it stays overdue (a deal nobody closes ends up long past its
    date).
    """
    n = len(deals)
    expected = deals.expected_close.copy()
    going = deals.status == OPEN
    found = []
    for chance in profiles.SLIP_AGAIN:
        at = _near(expected, last, clock, rng, profiles.OVERDUE_REVIEW_DAYS)
        new = np.maximum(expected, clock.local_day(at)) + _push_days(rng, n, profiles.SLIP_DAYS)
        going &= (rng.random(n) < chance) & (at < clock.as_of)
        pushed = np.flatnonzero(going)
        found.append((pushed, at[pushed], new[pushed]))
        expected[pushed], last[pushed] = new[pushed], at[pushed]
    deals.expected_close = expected
    deal, at, to = (np.concatenate(column) for column in zip(*found, strict=True))
    return deal, at, to


def _push_days(rng: np.random.Generator, size: int | tuple[int, int], median: float | np.ndarray) -> np.ndarray:
    """How far each push moved a date, in days: about `median`, now and then three times as far; a week at least."""
    return (np.maximum(median, 1) * rng.lognormal(0, 0.6, size)).round().clip(7, 120).astype(np.int64)


def _near(day: np.ndarray, after: np.ndarray, clock: Clock, rng: np.random.Generator, days_after: int) -> np.ndarray:
    """When a rep looked at each date: a working moment from a week before `day` until `days_after` it, after `after`."""
    due = clock.at(day, 0)
    low = np.maximum(after + 60, due - profiles.SLIP_REVIEW_DAYS * SECONDS_PER_DAY)
    return clock.working_instants(rng, low, np.maximum(low, due + days_after * SECONDS_PER_DAY))


def _amount_changes(
    deals: Deals, ends: np.ndarray, clock: Clock, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(deal, instant, new amount) of each change, and every deal's first amount (its amount now if never changed).

    One or two changes, at random moments of the deal's open life, each up or down by 10 to 40 %, towards the
    amount it has now; amounts rounded to tens as the first estimates are (seed.deals._price).
    """
    assert deals.amount is not None
    n = len(deals)
    span = ends - deals.created
    changed = (span > 2 * SECONDS_PER_DAY) & (rng.random(n) < profiles.AMOUNT_REVISED_SHARE)
    twice = changed & (rng.random(n) < profiles.AMOUNT_REVISED_TWICE)
    # Two moments each: the later is the change to the amount now, the earlier the one before it (if any).
    raw = deals.created[:, None] + (np.sort(rng.random((n, 2)), axis=1) * span[:, None]).astype(np.int64)
    low = np.maximum(raw, deals.created[:, None] + 60)
    high = np.maximum(low, np.minimum(raw + SECONDS_PER_DAY, ends[:, None] - 60))
    at = clock.working_instants(rng, low.ravel(), high.ravel()).reshape(n, 2)
    factor = np.exp(rng.uniform(0.1, 0.4, (n, 2)) * np.where(rng.random((n, 2)) < 0.5, -1, 1))
    before = np.empty((n, 2), dtype=np.int64)
    before[:, 1] = _rounded(deals.amount / factor[:, 1])
    before[:, 0] = _rounded(before[:, 1] / factor[:, 0])
    changed &= before[:, 1] != deals.amount
    twice &= changed & (before[:, 0] != before[:, 1]) & (at[:, 0] < at[:, 1])
    to_now, earlier = np.flatnonzero(changed), np.flatnonzero(twice)
    first_amount = deals.amount.copy()
    first_amount[to_now] = before[to_now, 1]
    first_amount[earlier] = before[earlier, 0]
    return (
        np.concatenate([earlier, to_now]),
        np.concatenate([at[earlier, 0], at[to_now, 1]]),
        np.concatenate([before[earlier, 1], deals.amount[to_now]]),
        first_amount,
    )


def _rounded(cents: np.ndarray) -> np.ndarray:
    return np.maximum(1000, (cents // 1000 * 1000).astype(np.int64))
