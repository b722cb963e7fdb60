"""What an evaluation asks for: the buckets its values fall in (periods or windows) and how its groups are keyed.

Shared by the queries that compute leaves (kpi.queries, kpi.rollups) and the table they fill (kpi.table),
so neither needs the other's module for these.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from quota.kpi.periods import Every, Span

# A group's id (a person, a team, a dimension's record); None: unassigned, or no grouping.
GroupKey = int | None


@dataclass(frozen=True)
class Layout:
    """Which values are wanted: periods (`every` and the period starts) or explicit windows."""

    every: Every
    buckets: tuple[dt.date, ...] = ()
    windows: tuple[Span, ...] = ()

    @property
    def by_period(self) -> bool:
        return self.every != Every.NONE
