"""Shared pieces of the report tests: a fixed moment, deals placed in time, a report definition."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from quota.crm.services import deal_close_lost, deal_close_won, deal_create
from quota.testing.factories import loss_reason

# A fixed "now" (a Wednesday): last week is 3-9 March 2025, the month to date 1-12 March.
NOW = dt.datetime(2025, 3, 12, 9, 30, tzinfo=dt.UTC)
KPIS = ["won_revenue", "won_deals", "win_rate", "pipeline_value"]


def at(day: str, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour)))


def won(owner: Any, title: str, amount: str, created: str, closed: str) -> Any:
    deal = deal_create(by=None, title=title, owner=owner, amount=Decimal(amount), created_at=at(created))
    return deal_close_won(deal=deal, by=None, at=at(closed))


def lost(owner: Any, title: str, amount: str, created: str, closed: str) -> Any:
    deal = deal_create(by=None, title=title, owner=owner, amount=Decimal(amount), created_at=at(created))
    return deal_close_lost(deal=deal, by=None, reason=loss_reason(), at=at(closed))


def report_fields(**overrides: Any) -> dict[str, Any]:
    """A weekly sales report definition (owner and recipients are up to the test)."""
    fields: dict[str, Any] = {
        "name": "weekly-sales",
        "title": "Weekly sales",
        "kpis": list(KPIS),
        "group_by": "person",
        "periods": ["last_week", "month_to_date"],
        "tables": ["won_deals", "top_won_deals", "open_pipeline"],
        "formats": ["pdf", "xlsx", "csv"],
        "frequency": "weekly",
        "weekday": 0,
        "send_at": dt.time(7, 0),
    }
    fields.update(overrides)
    return fields
