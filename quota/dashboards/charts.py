"""Chart payloads: plain JSON that `static/dashboards/charts.js` turns into ECharts options.

Templates embed a payload with `{{ payload|json_script:"chart-id" }}` next to a
`<div data-chart="chart-id">`; no JavaScript is ever built from data. Labels arrive translated,
numbers raw (money rounded to cents, rates as fractions) with their unit, and the browser formats
them in the page's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from quota.core.money import company_currency
from quota.kpi.definitions import Unit
from quota.kpi.formatting import as_json

# What a series stands for, so the script can colour it consistently (this period, last year, a target ...).
ROLES = ("current", "previous", "target", "good", "bad", "high", "middle", "low")


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[Any]
    unit: Unit
    kind: str = "bar"  # "bar", "line" or "point" (a marker per category, e.g. a target)
    role: str = "current"


def category_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    horizontal: bool = False,
    stacked: bool = False,
    overlaid: bool = False,
) -> dict:
    """Bars and lines over categories (months, people, sources); up to two units, one value axis each.

    `stacked` piles a category's bars up; `overlaid` draws them on one another, the first behind (a range: P90,
    P50, P10).
    """
    units = list(dict.fromkeys(s.unit.value for s in series))[:2]
    return {
        "type": "category",
        "horizontal": horizontal,
        "stacked": stacked,
        "overlaid": overlaid,
        "categories": [str(c) for c in categories],
        "units": units,
        "currency": company_currency(),
        "series": [
            {
                "name": str(s.name),
                "kind": s.kind,
                "role": s.role,
                "axis": units.index(s.unit.value) if s.unit.value in units else 0,
                "data": [as_json(v, s.unit) for v in s.values],
            }
            for s in series
        ],
    }


def funnel_chart(steps: Sequence[tuple[str, Any]], *, name: str, unit: Unit) -> dict:
    """Steps in the order given (a pipeline's stages), not sorted by size."""
    return {
        "type": "funnel",
        "name": str(name),
        "units": [unit.value],
        "currency": company_currency(),
        "steps": [{"name": str(label), "value": as_json(value, unit)} for label, value in steps],
    }
