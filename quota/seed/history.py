"""Deal stage history (crm.DealStageChange), written exactly as the deal services record it:
the creation into the first stage, each move, and the close as a row whose to_status is won or lost."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from quota.crm.choices import DealStatus
from quota.seed.columns import NULL_ID, NULL_TIME, Batch, Choice, Ints, Times
from quota.seed.deals import CHUNK, OPEN, STATUSES, Deals
from quota.seed.people import People
from quota.seed.reference import Reference

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
