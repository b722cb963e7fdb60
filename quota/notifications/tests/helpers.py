"""What the early-warning tests build alike: their targets are for March 2025, the month they run in."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from quota.kpi.models import Metric, Target


def march_target(key: str, value: str | int, **scope: Any) -> Target:
    """A March 2025 target of the current version of KPI `key`, for `scope` (user= or team=; none: the company)."""
    return Target.objects.create(
        metric=Metric.objects.current().get(key=key),
        period="month",
        start=dt.date(2025, 3, 1),
        end=dt.date(2025, 3, 31),
        value=Decimal(value),
        **scope,
    )
