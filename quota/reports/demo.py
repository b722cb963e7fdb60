"""The demo company's reports (the seed command calls `ensure_demo_reports()`)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model

from quota.accounts.models import Role
from quota.reports.choices import Frequency, Grouping, ReportFormat, ReportPeriod, ReportTable, Weekday
from quota.reports.models import Report
from quota.reports.services import report_create

WEEKLY_SALES = "weekly-sales"


def ensure_demo_reports() -> Report | None:
    """The director's weekly sales report, created once (None when there is no active director with an e-mail)."""
    existing = Report.objects.filter(name=WEEKLY_SALES).first()
    if existing is not None:
        return existing
    directors = get_user_model().objects.filter(role=Role.DIRECTOR, is_active=True).exclude(email="").order_by("pk")
    director = directors.filter(username="director").first() or directors.first()  # the demo login, when seeded
    if director is None:
        return None
    return report_create(
        by=None,
        owner=director,
        name=WEEKLY_SALES,
        title="Weekly sales",
        kpis=["won_revenue", "won_deals", "win_rate", "pipeline_value"],
        group_by=Grouping.PERSON,
        periods=[ReportPeriod.LAST_WEEK, ReportPeriod.MONTH_TO_DATE],
        tables=[ReportTable.TOP_WON_DEALS, ReportTable.OPEN_PIPELINE],
        formats=[ReportFormat.PDF, ReportFormat.XLSX],
        frequency=Frequency.WEEKLY,
        weekday=Weekday.MONDAY,
        send_at=dt.time(7, 0),
        recipients=[director],
    )
