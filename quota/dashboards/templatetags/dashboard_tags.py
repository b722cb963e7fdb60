"""Template filters for KPI values: formatted by unit in the user's language (see kpi.formatting)."""

from __future__ import annotations

from typing import Any

from django import template

from quota.dashboards import cards
from quota.kpi.definitions import Unit
from quota.kpi.formatting import as_text, share_text

register = template.Library()


@register.filter
def kpi_value(value: Any, unit: Any) -> str:
    """`{{ value|kpi_value:"money" }}`: €1,235, 25.0%, 3.2 days; a dash when undefined."""
    return as_text(None if value == "" else value, Unit(str(unit)))


@register.filter
def share(value: float | None) -> str:
    """A fraction as a whole percentage: 0.625 -> 63%; a dash when undefined (also for a missing variable)."""
    return share_text(None if value == "" else value)


@register.filter
def bar_width(value: float | None) -> str:
    """A fraction as a CSS percentage for a progress bar, capped at 100 % (attainment can pass it)."""
    return f"{max(0.0, min(float(value or 0), 1.0)) * 100:.1f}%"


@register.filter
def raw_number(value: Any, unit: Any) -> str:
    """`{{ value|raw_number:"money" }}`: the number unformatted, for `data-value` (43976.00); "" when undefined."""
    return cards.raw_number(None if value == "" else value, Unit(str(unit)))
