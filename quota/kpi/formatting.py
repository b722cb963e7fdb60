"""KPI values as text and as JSON numbers, by unit: the one formatter of pages, tables, reports, messages and the CLI.

Text follows the active language (see `quota.core.formatting`): money in whole units of the company
currency, rates as percentages with one decimal, counts as whole numbers, durations with the locale's
unit names, scores with one decimal. Shares of a whole (attainment, pace, a group's share) are whole
percentages; shares of one total are rounded together so that they add up to 100 %. A change of a
rate is in percentage points and a change of a score (NPS, CSAT) in points; other changes are relative.
An undefined value is a dash everywhere, and an empty cell in a spreadsheet.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from quota.core.formatting import (
    DASH,
    count_text,
    decimal_text,
    duration_text,
    largest_remainder,
    money_text,
    percent_text,
)
from quota.kpi.definitions import Unit
from quota.kpi.plans import Number

__all__ = ["DASH", "as_json", "as_text", "cell_text", "change_text", "share_text", "shares"]


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
    """For people: €1,235, 25.0%, 177, 3.2 days, 42.5; an undefined value is a dash."""
    if value is None:
        return DASH
    if unit == Unit.MONEY:
        return money_text(value)
    if unit == Unit.PERCENT:
        return percent_text(value)
    if unit == Unit.COUNT:
        return count_text(value)
    if unit in (Unit.DAYS, Unit.HOURS, Unit.MINUTES):
        return duration_text(value, unit.value)
    return decimal_text(value, 1)


def share_text(fraction: Number | None) -> str:
    """A fraction as a whole percentage (attainment, pace, a share): 0.625 -> 63%; a dash when undefined."""
    return percent_text(fraction, 0)


def shares(values: list[Number | None]) -> list[float | None]:
    """Each value's share of their sum as a fraction of whole percents that add up to 100 % (largest remainder).

    None for every value when the sum is not positive (no share of nothing).
    """
    if sum(max(float(v or 0), 0.0) for v in values) <= 0:
        return [None] * len(values)
    return [percent / 100 for percent in largest_remainder(values)]


def change_text(value: Number, previous: Number, unit: Unit) -> str:
    """The change from `previous` to `value` with its sign: +2.1 pp for rates, +12.0 pts for scores, +12.5% for the rest.

    A relative change from 0 is undefined, so it is said in the KPI's own unit (+€1,200).
    """
    delta = float(value) - float(previous)
    sign = "+" if delta > 0 else "−" if delta < 0 else "±"
    if unit == Unit.PERCENT:
        return _("%(change)s pp") % {"change": f"{sign}{decimal_text(abs(delta) * 100, 1)}"}  # percentage points
    if unit == Unit.SCORE:
        return _("%(change)s pts") % {"change": f"{sign}{decimal_text(abs(delta), 1)}"}  # points of the score
    if previous:
        return f"{sign}{percent_text(abs(delta) / abs(float(previous)))}"
    return f"{sign}{as_text(abs(delta), unit)}"


def cell_text(value: Any, unit: Unit | None) -> str:
    """A table cell for people (PDF, e-mail): a KPI value by its unit, a date in the short format, else the text."""
    if value is None or value == "":
        return "" if unit is None else DASH
    if unit is not None:
        return as_text(value, unit)
    if isinstance(value, dt.date):
        return date_format(value, "SHORT_DATE_FORMAT")
    return str(value)
