"""What makes a report definition sendable; every rejection says what to change.

Checked when a report is saved and again before each delivery, since people change roles and
teams between the two.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from quota.kpi.engine import unknown_kpi_message
from quota.kpi.models import Metric
from quota.reports.access import kpi_refusal, reads_everything, sees_everything_of
from quota.reports.choices import LAST_DAY, LATEST_FIXED_DAY, Frequency, Grouping, ReportFormat, ReportPeriod, ReportTable

Problems = dict[str, list[str]]


def check_report(report: Any, *, recipients: Iterable[Any], emails: Iterable[str]) -> None:
    """Raise a ValidationError (by field) listing everything wrong with `report` and its recipients."""
    problems: Problems = defaultdict(list)
    recipients = list(recipients)
    emails = list(emails)
    _check_contents(report, problems)
    _check_schedule(report, problems)
    people = _check_recipients(report, recipients, emails, problems)
    _check_scope(report, people, problems)
    _check_kpis(report, [report.owner, report.scope_person, *people], problems)
    if problems:
        raise ValidationError(dict(problems))


def _check_contents(report: Any, problems: Problems) -> None:
    if not report.kpis and not report.tables:
        problems["kpis"].append(_("Choose at least one KPI or table."))
    _unknown(report.periods, ReportPeriod.values, "periods", problems)
    if not report.periods:
        problems["periods"].append(_("Choose at least one period."))
    _unknown(report.tables, ReportTable.values, "tables", problems)
    _unknown(report.formats, ReportFormat.values, "formats", problems)
    if not report.formats:
        problems["formats"].append(_("Choose at least one format (PDF, XLSX or CSV)."))
    if report.group_by not in Grouping.values:
        problems["group_by"].append(_("Unknown breakdown %(value)r.") % {"value": report.group_by})


def _unknown(values: Any, allowed: list[str], field: str, problems: Problems) -> None:
    if not isinstance(values, list):
        problems[field].append(_("Expected a list."))
        return
    for value in values:
        if value not in allowed:
            problems[field].append(
                _("Unknown choice %(value)r; use one of %(allowed)s.") % {"value": value, "allowed": ", ".join(allowed)}
            )


def _check_schedule(report: Any, problems: Problems) -> None:
    if report.frequency == Frequency.WEEKLY and (report.weekday is None or not 0 <= report.weekday <= 6):
        problems["weekday"].append(_("A weekly report needs the weekday it is sent on."))
    if report.frequency == Frequency.MONTHLY:
        day = report.day_of_month
        if day is None:
            problems["day_of_month"].append(_("A monthly report needs the day of the month it is sent on."))
        elif day > LATEST_FIXED_DAY:
            problems["day_of_month"].append(
                _(
                    "Not every month has a day %(day)s (February has 28 or 29). Choose a day from 1 to %(latest)s, "
                    "or “last day of the month”."
                )
                % {"day": day, "latest": LATEST_FIXED_DAY}
            )
        elif day != LAST_DAY and day < 1:
            problems["day_of_month"].append(
                _("Choose a day from 1 to %(latest)s, or “last day of the month”.") % {"latest": LATEST_FIXED_DAY}
            )


def _check_recipients(report: Any, recipients: list[Any], emails: list[str], problems: Problems) -> list[Any]:
    """The people who will get the report: the users chosen and the users behind the addresses given."""
    if not recipients and not emails:
        problems["recipients"].append(_("Add at least one recipient: a user or an e-mail address."))
    people = {user.pk: user for user in recipients}
    for user in recipients:
        if not user.is_active:
            problems["recipients"].append(_("%(person)s is no longer active.") % {"person": user})
        elif not user.email:
            problems["recipients"].append(_("%(person)s has no e-mail address.") % {"person": user})
    lowered = [address.lower() for address in emails]
    users = (
        get_user_model().objects.filter(is_active=True).annotate(address=Lower("email")).filter(address__in=lowered)
        if emails
        else []
    )
    known = {user.email.lower(): user for user in users}
    for address in emails:
        try:
            validate_email(address)
        except ValidationError:
            problems["emails"].append(_("%(address)s is not an e-mail address.") % {"address": address})
            continue
        user = known.get(address.lower())
        if user is not None:
            people[user.pk] = user
        elif not reads_everything(report.owner):
            problems["emails"].append(
                _(
                    "%(address)s is not a Quota user: only those who see all records may send reports outside Quota. "
                    "Add the person as a user."
                )
                % {"address": address}
            )
    return list(people.values())


def _check_scope(report: Any, people: list[Any], problems: Problems) -> None:
    scope = report.scope_person
    if not scope.is_active:
        problems["scope_user"].append(_("%(person)s is no longer active; choose another scope.") % {"person": scope})
        return
    if not sees_everything_of(report.owner, scope):
        problems["scope_user"].append(
            _("You may not make a report of what %(person)s sees: it is outside your team.") % {"person": scope}
        )
    for person in people:
        if not sees_everything_of(person, scope):
            problems["recipients"].append(
                _("%(person)s may not see everything %(scope)s sees, so cannot receive this report.")
                % {"person": person, "scope": scope}
            )


def _check_kpis(report: Any, people: list[Any], problems: Problems) -> None:
    if not isinstance(report.kpis, list):
        problems["kpis"].append(_("Expected a list."))
        return
    metrics = {m.key: m for m in Metric.objects.current().filter(key__in=report.kpis)}
    seen = set()
    for key in report.kpis:
        metric = metrics.get(key)
        if metric is None:
            problems["kpis"].append(unknown_kpi_message(str(key)) + ".")
            continue
        if key in seen:
            problems["kpis"].append(_("%(kpi)s is chosen twice.") % {"kpi": metric.display_name})
        seen.add(key)
        if report.group_by != Grouping.NONE:
            problem = metric.parsed.grouping_problem(report.group_by)
            if problem:
                problems["group_by"].append(f"{metric.display_name}: {problem}")
        for person in {p.pk: p for p in people}.values():
            refusal = kpi_refusal(metric, person)
            if refusal:
                problems["kpis"].append(refusal)
