"""Helpers the section selectors share."""

from __future__ import annotations

from quota.kpi.engine import KpiResult, Value
from quota.kpi.layout import GroupKey


def values_by_group(result: KpiResult) -> dict[GroupKey, Value]:
    """A whole-range result (`every="none"`) as {group id: value}."""
    return {(p.group.id if p.group else None): p.value for p in result.points}


def labels_by_group(*results: KpiResult) -> dict[GroupKey, str]:
    """Every group any result has, with its label, in the engine's order (by label, the missing group last)."""
    labels: dict[GroupKey, str] = {}
    for result in results:
        for point in result.points:
            if point.group is not None:
                labels.setdefault(point.group.id, point.group.label)
    return labels
