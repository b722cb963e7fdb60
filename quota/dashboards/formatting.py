"""KPI values as dashboards show them: as `kpi.formatting.as_text`, but money in whole units (cents are noise here)."""

from __future__ import annotations

from django.utils.formats import number_format

from quota.core.money import company_currency
from quota.kpi.definitions import Unit
from quota.kpi.formatting import as_text
from quota.kpi.plans import Number


def display_text(value: Number | None, unit: Unit) -> str:
    if unit == Unit.MONEY and value is not None:
        return f"{number_format(round(float(value)), 0, force_grouping=True)} {company_currency()}"
    return as_text(value, unit)


def percent_text(share: float | None) -> str:
    """A fraction as a whole percentage: 0.625 -> 63 %; a dash when undefined."""
    return "-" if share is None else f"{number_format(share * 100, 0, force_grouping=True)} %"
