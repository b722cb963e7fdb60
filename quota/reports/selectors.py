"""Read paths for reports: which reports and deliveries a person may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from quota.kpi.models import Metric
from quota.reports.choices import ReportPeriod, ReportTable
from quota.reports.models import Report, ReportDelivery


def reports_for(user: Any) -> QuerySet[Report]:
    """Reports `user` owns or receives (`reports.view`); with `reports.view_all` (administrators, directors) all."""
    if not user.is_active:
        return Report.objects.none()
    reports = Report.objects.select_related("owner", "scope_user")
    if user.has_perm("reports.view_all"):
        return reports.all()
    return reports.filter(Q(owner=user) | Q(recipients=user)).distinct()


def report_labels(report: Report) -> dict[str, list[str]]:
    """The report's KPIs, periods and tables as people read them (KPI names in the active language)."""
    metrics = {m.key: m.display_name for m in Metric.objects.current().filter(key__in=report.kpis)}
    return {
        "kpis": [metrics.get(key, key) for key in report.kpis],
        "periods": [str(ReportPeriod(key).label) if key in ReportPeriod.values else key for key in report.periods],
        "tables": [str(ReportTable(key).label) if key in ReportTable.values else key for key in report.tables],
    }


def report_by_name(name: str) -> Report | None:
    """The report with this key (weekly-sales) or, failing that, this name (Weekly sales)."""
    reports = Report.objects.select_related("owner", "scope_user")
    return reports.filter(key=name).first() or reports.filter(name=name).first()


def deliveries_of(report: Report, *, limit: int = 50) -> list[ReportDelivery]:
    return list(report.deliveries.select_related("requested_by")[:limit])


def delivery_for(user: Any, pk: int) -> ReportDelivery | None:
    """A delivery of a report `user` may see, or None."""
    return ReportDelivery.objects.select_related("report").filter(pk=pk, report__in=reports_for(user)).first()
