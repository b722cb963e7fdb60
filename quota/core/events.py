"""Domain events: services announce what happened; webhooks, alerts and caches listen.

An event is sent only once the transaction that made it has committed, so a listener never
sees a change that was rolled back. A listener that fails is logged and the others still hear the
event: the change is committed, so no listener may turn it into an error for the caller.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import Signal

LEAD_CREATED = "lead.created"
DEAL_STAGE_CHANGED = "deal.stage_changed"
DEAL_WON = "deal.won"
DEAL_LOST = "deal.lost"
CASE_CREATED = "case.created"
TARGET_MET = "target.met"

EVENTS = [LEAD_CREATED, DEAL_STAGE_CHANGED, DEAL_WON, DEAL_LOST, CASE_CREATED, TARGET_MET]

# Receivers get `sender=<event name>` and `payload=<JSON-serialisable dict>`.
domain_event = Signal()


def emit(name: str, payload: dict[str, Any]) -> None:
    if name not in EVENTS:
        raise ValueError(f"Unknown event {name!r}")
    # send_robust logs a failing listener (the "django.dispatch" logger) and goes on to the next.
    transaction.on_commit(lambda: domain_event.send_robust(sender=name, payload=payload), robust=True)
