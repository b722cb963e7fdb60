"""Report values as text for people (PDF, e-mail); the spreadsheet formats keep numbers as numbers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.formats import date_format

from quota.kpi.definitions import Unit
from quota.kpi.formatting import as_text


def cell_text(value: Any, unit: Unit | None) -> str:
    if value is None or value == "":
        return "" if unit is None else as_text(None, unit)
    if unit is not None:
        return as_text(value, unit)
    if isinstance(value, dt.date):
        return date_format(value, "SHORT_DATE_FORMAT")
    return str(value)
