"""Writing a deal's history (crm.DealState): one state per change of what the pipeline reports on.

The deal services call `record_change` after each save, at the moment the change took effect (a move's or a
close's own time, which may be in the past; an edit's is now). A deal that arrives with its whole story (an
import's row, a test's factory) gets `initial_states`: open from its creation, then won or lost from its close.
Reads of the history (the pipeline as it stood, its waterfall) live with their users.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import connections

from quota.crm.choices import DealStatus
from quota.crm.models import Deal, DealStageChange, DealState

# The deal fields a state keeps, by their column names.
TRACKED = ("stage_id", "status", "amount", "currency", "exchange_rate", "expected_close_date", "owner_id")


def state_of(deal: Deal, *, valid_from: dt.datetime, **overrides: Any) -> DealState:
    """An (unsaved) state holding the deal's current values, from `valid_from` on."""
    values: dict[str, Any] = {name: getattr(deal, name) for name in TRACKED}
    values.update(overrides)
    return DealState(deal_id=deal.pk, valid_from=valid_from, **values)


def initial_states(deal: Deal, *, amount_known_before_close: bool = True) -> list[DealState]:
    """The states of a deal written in one go: open from its creation, then won or lost from its close.

    The open state has the deal's values as they are now, except its amount when `amount_known_before_close`
    is false (a file whose value is the value the deal closed at): that was not known while it was open.
    """
    if deal.status == DealStatus.OPEN or deal.closed_at is None or deal.closed_at <= deal.created_at:
        return [state_of(deal, valid_from=deal.created_at)]
    opened = state_of(
        deal,
        valid_from=deal.created_at,
        valid_to=deal.closed_at,
        status=DealStatus.OPEN,
        amount=deal.amount if amount_known_before_close else None,
    )
    return [opened, state_of(deal, valid_from=deal.closed_at)]


def record_change(deal: Deal, *, at: dt.datetime) -> DealState | None:
    """End the deal's current state at `at` and begin one with its values now; None when nothing tracked changed.

    A moment before the current state began (a change dated in the past, before the last one) is taken as
    that beginning: a history never runs backwards. A change at the very moment the current state began
    replaces it.
    """
    return record_changes([(deal, at)]).get(deal.pk)


def record_changes(changes: list[tuple[Deal, dt.datetime]]) -> dict[int, DealState]:
    """`record_change` for many deals at once (an import's batch): a fixed number of queries. Each deal once."""
    ids = [deal.pk for deal, _ in changes]
    # The values as saved, not as a caller's instance holds them: it may predate another service's save.
    saved = {row.pop("id"): row for row in Deal.objects.filter(pk__in=ids).values("id", *TRACKED)}
    current = {state.deal_id: state for state in DealState.objects.filter(deal_id__in=ids, valid_to__isnull=True)}
    ended, replaced, begun, first = [], [], {}, []
    for deal, at in changes:
        state = current.get(deal.pk)
        if state is None:
            first.append(deal.pk)
            continue
        values = saved[deal.pk]
        if all(_same(getattr(state, name), values[name]) for name in TRACKED):
            continue
        at = max(at, state.valid_from)
        if at == state.valid_from:
            replaced.append(state.pk)
        else:
            state.valid_to = at
            ended.append(state)
        begun[deal.pk] = DealState(deal_id=deal.pk, valid_from=at, **values)
    DealState.objects.filter(pk__in=replaced).delete()
    DealState.objects.bulk_update(ended, ["valid_to"])
    DealState.objects.bulk_create([*begun.values(), *(s for d in Deal.objects.filter(pk__in=first) for s in initial_states(d))])
    return begun


def _same(before: Any, after: Any) -> bool:
    if isinstance(before, Decimal) or isinstance(after, Decimal):
        return before is not None and after is not None and Decimal(before) == Decimal(after)
    return bool(before == after)


# The history of deals written without one (before there was a history; a bulk seed): each deal's stage changes
# become its states, with the values it has now (what its amount, close date or owner were before is not known);
# a deal without stage changes is open from its creation and, if closed, won or lost from its close. One
# statement each, in the database: a million deals take seconds. Zero-length states (two changes at one moment)
# are left out, and the tiling holds. Deals that have states are left alone.
_COLUMNS_SQL = "deal_id, valid_from, valid_to, stage_id, status, amount, currency, exchange_rate, expected_close_date, owner_id"
_NO_STATES = "NOT EXISTS (SELECT 1 FROM crm_dealstate x WHERE x.deal_id = d.id)"
_NO_CHANGES = "NOT EXISTS (SELECT 1 FROM crm_dealstagechange c WHERE c.deal_id = d.id)"
_CLOSED_LATER = "d.status <> 'open' AND d.closed_at > d.created_at"
_FILL_SQL = (
    f"""
    INSERT INTO crm_dealstate ({_COLUMNS_SQL})
    SELECT s.deal_id,
           CASE WHEN s.position = 1 AND d.created_at < s.valid_from THEN d.created_at ELSE s.valid_from END,
           s.valid_to, s.to_stage_id, s.to_status, d.amount, d.currency, d.exchange_rate, d.expected_close_date, d.owner_id
    FROM (
        SELECT c.deal_id, c.changed_at AS valid_from, c.to_stage_id, c.to_status,
               LEAD(c.changed_at) OVER (PARTITION BY c.deal_id ORDER BY c.changed_at, c.id) AS valid_to,
               ROW_NUMBER() OVER (PARTITION BY c.deal_id ORDER BY c.changed_at, c.id) AS position
        FROM crm_dealstagechange c
    ) s
    JOIN crm_deal d ON d.id = s.deal_id
    WHERE (s.valid_to IS NULL OR s.valid_to > s.valid_from) AND {_NO_STATES}
    """,
    f"""
    INSERT INTO crm_dealstate ({_COLUMNS_SQL})
    SELECT d.id, d.closed_at, NULL, d.stage_id, d.status, d.amount, d.currency, d.exchange_rate,
           d.expected_close_date, d.owner_id
    FROM crm_deal d WHERE {_NO_CHANGES} AND {_CLOSED_LATER} AND {_NO_STATES}
    """,
    # The opening state last: the closing state above is written only while a deal has none.
    f"""
    INSERT INTO crm_dealstate ({_COLUMNS_SQL})
    SELECT d.id, d.created_at, CASE WHEN {_CLOSED_LATER} THEN d.closed_at END, d.stage_id,
           CASE WHEN {_CLOSED_LATER} THEN 'open' ELSE d.status END,
           d.amount, d.currency, d.exchange_rate, d.expected_close_date, d.owner_id
    FROM crm_deal d WHERE {_NO_CHANGES} AND NOT EXISTS (
        SELECT 1 FROM crm_dealstate x WHERE x.deal_id = d.id AND x.valid_from <= d.created_at
    )
    """,
)


def fill_states_from_stage_changes(*, using: str = "default") -> None:
    """Write the states of every deal that has none, from its stage changes (see above)."""
    with connections[using].cursor() as cursor:
        for sql in _FILL_SQL:
            cursor.execute(sql)


# ----------------------------------------------------------------------------- a history brought by a file


def rebuild_from_stage_changes(
    deal_ids: list[int], *, imported: dict[int, dict[str, Any]], stage_given: set[int], now: dt.datetime
) -> None:
    """Rewrite the stage changes' chain and the states of `deal_ids` from their stage changes (an imported history).

    `imported` maps the id of each stage change a file brought to what it said of the deal then besides its
    stage and status (`amount`, `expected_close_date`); `stage_given` holds those that named a stage (the
    others keep the stage the deal was in, which only the order of the changes tells). A change already
    recorded at the moment of an imported one is replaced by it (a deal imported without its history was
    recorded in its last stage at its creation). Each change's `from_stage` and `from_status` become those of
    the change before it. A value the file gives holds until it gives another; before the first, and for what
    it never gives, the deal's values now stand. The last state is then brought to the deal as it is now, at
    `now` if they differ (`record_changes`), so exactly one state is current.
    """
    deals = {deal.pk: deal for deal in Deal.objects.filter(pk__in=deal_ids)}
    changes = list(DealStageChange.objects.filter(deal_id__in=deal_ids).order_by("deal_id", "changed_at", "pk"))
    moments = {(c.deal_id, c.changed_at) for c in changes if c.pk in imported}
    replaced = [c.pk for c in changes if c.pk not in imported and (c.deal_id, c.changed_at) in moments]
    DealStageChange.objects.filter(pk__in=replaced).delete()
    by_deal: dict[int, list[DealStageChange]] = {}
    for change in changes:
        if change.pk not in replaced:
            by_deal.setdefault(change.deal_id, []).append(change)
    states: list[DealState] = []
    for deal_id, steps in by_deal.items():
        deal = deals[deal_id]
        stage_id: int | None = None
        status = ""
        values: dict[str, Any] = {name: getattr(deal, name) for name in TRACKED}
        mine: list[DealState] = []
        for change in steps:
            if change.pk in imported and change.pk not in stage_given and stage_id is not None:
                change.to_stage_id = stage_id
            change.from_stage_id, change.from_status = stage_id, status
            stage_id, status = change.to_stage_id, change.to_status
            values.update(imported.get(change.pk, {}), stage_id=stage_id, status=status)
            begins = min(deal.created_at, change.changed_at) if not mine else change.changed_at
            if mine and begins == mine[-1].valid_from:
                mine.pop()  # two changes at one moment: the later one stands
            if mine:
                mine[-1].valid_to = begins
            mine.append(DealState(deal_id=deal_id, valid_from=begins, **values))
        states += mine
    DealStageChange.objects.bulk_update(
        [c for steps in by_deal.values() for c in steps], ["to_stage", "from_stage", "from_status"]
    )
    DealState.objects.filter(deal_id__in=list(by_deal)).delete()
    DealState.objects.bulk_create(states)
    record_changes([(deals[deal_id], now) for deal_id in by_deal])
