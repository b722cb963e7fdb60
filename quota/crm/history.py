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
from quota.crm.models import Deal, DealState

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
    # The values as saved, not as `deal` holds them: a caller's instance may predate another service's save.
    saved = Deal.objects.filter(pk=deal.pk).values(*TRACKED).get()
    current = DealState.objects.filter(deal_id=deal.pk, valid_to__isnull=True).first()
    if current is None:
        DealState.objects.bulk_create(initial_states(Deal.objects.get(pk=deal.pk)))
        return None
    if all(_same(getattr(current, name), saved[name]) for name in TRACKED):
        return None
    at = max(at, current.valid_from)
    if at == current.valid_from:
        current.delete()
    else:
        current.valid_to = at
        current.save(update_fields=["valid_to"])
    return DealState.objects.create(deal_id=deal.pk, valid_from=at, **saved)


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
