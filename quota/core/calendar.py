"""The company's calendar: its time zone and the moment each of its days starts.

Everything that cuts time into days (KPI periods, due tasks, report tables) asks here, so that a day is the
same day on every page, whoever asks (settings.TIME_ZONE is the company's zone).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def company_zone() -> dt.tzinfo:
    """KPI periods and due dates follow the company's calendar (settings.TIME_ZONE), whoever asks."""
    return timezone.get_default_timezone()


def local_midnight(day: dt.date) -> dt.datetime:
    """The moment the company's `day` starts."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=company_zone())
