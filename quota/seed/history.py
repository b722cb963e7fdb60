"""Deal history: the stage changes (crm.DealStageChange), written exactly as the deal services record them (the
creation into the first stage, each move, and the close as a row whose to_status is won or lost), and the states
(crm.DealState) of the deals whose close date or amount was revised (seed.revisions).

The states of the other deals, whose values never changed but for their stage and status, are read off their stage
changes in the database after the load (crm.history.fill_states_from_stage_changes): the bulk of a large seed's
states costs no Python. The revised deals' states are the same stage changes merged in time with the revisions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from quota.crm.choices import DealStatus
from quota.seed.columns import NULL_DAY, NULL_ID, NULL_TIME, Batch, Choice, Dates, Fixed, Ints, Times
from quota.seed.deals import CHUNK, OPEN, STATUSES, Deals
from quota.seed.people import People
from quota.seed.reference import Reference
from quota.seed.revisions import NO_AMOUNT, Revisions

# from_status values: "" for the creation row, "open" for every later row.
FROM_STATUSES = ("", DealStatus.OPEN.value)


def stage_change_count(deals: Deals) -> int:
    return int((deals.stage_at != NULL_TIME).sum() + (deals.status != OPEN).sum())


def stage_change_batches(deals: Deals, people: People, reference: Reference) -> Iterator[Batch]:
    stage_ids = np.array(reference.stage_ids)
    next_id = 1
    for start in range(0, len(deals), CHUNK):
        stop = min(start + CHUNK, len(deals))
        stage_at = deals.stage_at[start:stop]
        deal, stage = np.nonzero(stage_at != NULL_TIME)  # row-major: each deal's stages in order
        first = stage == 0
        from_stage = np.where(first, NULL_ID, stage_ids[np.roll(stage, 1)])
        status = deals.status[start:stop]
        closed = np.flatnonzero(status != OPEN)
        final = stage_ids[deals.stage[start:stop][closed]]
        # Moves first, then closes; a stable sort by deal puts each deal's close after its moves.
        deal_all = np.concatenate([deal, closed])
        order = np.argsort(deal_all, kind="stable")
        n = len(order)
        deal_ids = start + 1 + deal_all[order]
        from_ids = np.concatenate([from_stage, final])[order]
        to_ids = np.concatenate([stage_ids[stage], final])[order]
        from_status = np.concatenate([np.where(first, 0, 1), np.ones(len(closed), dtype=np.int64)])[order]
        to_status = np.concatenate([np.full(len(deal), OPEN), status[closed]])[order]
        changed = np.concatenate([stage_at[deal, stage], deals.closed[start:stop][closed]])[order]
        yield Batch(
            n,
            {
                "id": Ints(np.arange(next_id, next_id + n)),
                "deal_id": Ints(deal_ids),
                "from_stage_id": Ints(from_ids, nullable=True),
                "to_stage_id": Ints(to_ids),
                "from_status": Choice(from_status, FROM_STATUSES),
                "to_status": Choice(to_status, STATUSES),
                "changed_at": Times(changed),
                "changed_by_id": Ints(people.seller_ids[deals.seller[start:stop]][deal_all[order]]),
            },
        )
        next_id += n


@dataclass
class States:
    """States of deals, grouped by deal in deal order, in time order within each deal."""

    deal: np.ndarray  # 0-based deal index
    valid_from: np.ndarray
    valid_to: np.ndarray  # NULL_TIME: the current state
    stage: np.ndarray  # stage index
    status: np.ndarray  # OPEN, WON or LOST
    expected_close: np.ndarray  # epoch day
    amount: np.ndarray  # deal currency, cents


def revised_states(deals: Deals, revisions: Revisions, start: int, stop: int) -> States:
    """The states of the revised deals among deals[start:stop]: a new one at each stage change and each revision.

    As the database fill does for stage changes, changes at one moment make one state, the last of them standing
    (stage changes in the order of their ids: the moves, then the close).
    """
    mine = revisions.of(start, stop)
    revised = np.unique(mine.deal)
    entered = deals.stage_at[revised]
    row, stage = np.nonzero(entered != NULL_TIME)  # row-major: each deal's stages in order
    closes = revised[deals.status[revised] != OPEN]
    n_moves, n_closes, n_revisions = len(row), len(closes), len(mine)
    deal = np.concatenate([revised[row], closes, mine.deal])
    at = np.concatenate([entered[row, stage], deals.closed[closes], mine.at])
    rank = np.concatenate([stage, np.full(n_closes, entered.shape[1]), np.full(n_revisions, entered.shape[1] + 1)])
    order = np.lexsort((rank, at, deal))
    deal, at = deal[order], at[order]
    no_stage = np.full(n_revisions, -1)
    stages = np.concatenate([stage, deals.stage[closes], no_stage])[order]
    statuses = np.concatenate([np.full(n_moves, OPEN), deals.status[closes], no_stage])[order]
    expected = np.concatenate([np.full(n_moves + n_closes, NULL_DAY), mine.expected_close])[order]
    amount = np.concatenate([np.full(n_moves + n_closes, NO_AMOUNT), mine.amount])[order]
    # Each value as last set at or before each change: every deal sets all of them at its creation, its first moment.
    position = np.arange(len(order))
    stage_set = np.maximum.accumulate(np.where(stages >= 0, position, 0))
    expected_set = np.maximum.accumulate(np.where(expected != NULL_DAY, position, 0))
    amount_set = np.maximum.accumulate(np.where(amount != NO_AMOUNT, position, 0))
    # One state per moment of a deal: the last change made then.
    last = np.ones(len(order), dtype=bool)
    last[:-1] = (deal[1:] != deal[:-1]) | (at[1:] != at[:-1])
    kept = np.flatnonzero(last)
    ends = np.full(len(kept), NULL_TIME)
    follows = deal[kept[1:]] == deal[kept[:-1]]
    ends[:-1] = np.where(follows, at[kept[1:]], NULL_TIME)
    return States(
        deal=deal[kept],
        valid_from=at[kept],
        valid_to=ends,
        stage=stages[stage_set[kept]],
        status=statuses[stage_set[kept]],
        expected_close=expected[expected_set[kept]],
        amount=amount[amount_set[kept]],
    )


def revised_state_count(deals: Deals, revisions: Revisions) -> int:
    chunks = range(0, len(deals), CHUNK)
    return sum(len(revised_states(deals, revisions, start, min(start + CHUNK, len(deals))).deal) for start in chunks)


def revised_state_batches(deals: Deals, revisions: Revisions, people: People, reference: Reference) -> Iterator[Batch]:
    """The revised deals' states; ids come from the table's sequence, as those of the fill after them do."""
    assert deals.currency is not None and deals.rate is not None
    stage_ids = np.array(reference.stage_ids)
    for start in range(0, len(deals), CHUNK):
        states = revised_states(deals, revisions, start, min(start + CHUNK, len(deals)))
        if not len(states.deal):
            continue  # (no value to format)
        yield Batch(
            len(states.deal),
            {
                "deal_id": Ints(states.deal + 1),
                "valid_from": Times(states.valid_from),
                "valid_to": Times(states.valid_to),
                "stage_id": Ints(stage_ids[states.stage]),
                "status": Choice(states.status, STATUSES),
                "amount": Fixed(states.amount),
                "currency": Choice(deals.currency[states.deal], reference.rates.currencies),
                "exchange_rate": Fixed(deals.rate[states.deal], places=8),
                "expected_close_date": Dates(states.expected_close),
                "owner_id": Ints(people.seller_ids[deals.seller[states.deal]]),
            },
        )
