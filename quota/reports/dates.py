"""Dates in reports for people: one format per language, the language's short date (Django's locale formats).

A day is written the same way everywhere in a report (period spans, table cells, the "as of" line):
SHORT_DATE_FORMAT of the active language, 03/12/2025 in English, 12-03-2025 in Polish, 12.03.2025 in Russian.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.formats import date_format

from quota.kpi.periods import company_zone


def day_text(day: dt.date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


def moment_text(moment: dt.datetime) -> str:
    """A moment in the company's time zone: its day as day_text writes it, then the time."""
    return date_format(timezone.localtime(moment, company_zone()), "SHORT_DATETIME_FORMAT")
