"""KPI values as text and as JSON numbers, by unit (shared by the command line and the pages)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.formats import number_format

from quota.core.money import company_currency
from quota.kpi.definitions import Unit
from quota.kpi.plans import Number


def as_json(value: Number | None, unit: Unit) -> int | float | None:
    """A JSON number: money rounded to cents, rates as fractions (0.25), counts as integers when whole."""
    if value is None:
        return None
    if unit == Unit.MONEY:
        return round(float(value), 2)
    if isinstance(value, int) or (isinstance(value, Decimal) and value == value.to_integral_value() and unit == Unit.COUNT):
        return int(value)
    return float(value)


def as_text(value: Number | None, unit: Unit) -> str:
    """For people: 1,234.50 EUR, 25.0 %, 3.2 days; an undefined value is a dash."""
    if value is None:
        return "-"
    number = float(value)
    if unit == Unit.MONEY:
        return f"{number_format(number, 2, force_grouping=True)} {company_currency()}"
    if unit == Unit.PERCENT:
        return f"{number_format(number * 100, 1)} %"
    if unit == Unit.COUNT and number == int(number):
        return number_format(int(number), force_grouping=True)
    suffix = {Unit.DAYS: " d", Unit.HOURS: " h", Unit.MINUTES: " min"}.get(unit, "")
    return f"{number_format(number, 1, force_grouping=True)}{suffix}"
