"""Write paths for reports: define and change them, send one now, render one for the command line.

Services take keyword-only arguments, validate everything (validation.check_report) and run in
one transaction. `by` is the user acting; None is system work (the demo seed, the command line).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from quota.core.permissions import refusal, require
from quota.core.services import model_update
from quota.reports.access import preview_refusal
from quota.reports.choices import DeliveryStatus, DeliveryTrigger, Frequency
from quota.reports.content import ReportContent, build_content
from quota.reports.deliveries import delivery_run, render_files
from quota.reports.models import Report, ReportDelivery
from quota.reports.scheduler import enqueue_delivery
from quota.reports.slots import next_slot_after
from quota.reports.validation import check_report

SCHEDULE_FIELDS = {"frequency", "weekday", "day_of_month", "send_at", "is_active"}
EDITABLE_FIELDS = {
    "name",
    "title",
    "scope_user",
    "kpis",
    "group_by",
    "periods",
    "tables",
    "formats",
    "recipients",
    "emails",
    *SCHEDULE_FIELDS,
}


@transaction.atomic
def report_create(*, by: Any, owner: Any = None, recipients: Iterable[Any] = (), **fields: Any) -> Report:
    """Define a report owned by `by` (or by `owner`, for system work); its first run is the next slot from now."""
    owner = owner or by
    if owner is None:
        raise ValidationError({"owner": _("A report needs an owner.")})
    if not owner.has_perm("reports.define"):
        raise PermissionDenied(refusal("reports.define"))
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(_("Unknown report fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    report = Report(owner=owner, **fields)
    _normalise_schedule(report)
    recipients = list(recipients)
    _validate(report, recipients)
    report.next_run_at = _next_run(report)
    report.save()
    report.recipients.set(recipients)
    return report


@transaction.atomic
def report_update(*, report: Report, by: Any, data: dict[str, Any]) -> Report:
    """Change a report; a changed schedule (or reactivation) recomputes the next run from now."""
    require(by, "reports.change", report)
    report = Report.objects.select_for_update().get(pk=report.pk)
    data = dict(data)
    recipients = list(data.pop("recipients")) if "recipients" in data else list(report.recipients.all())

    def schedule_follows(report: Report, changed: list[str]) -> list[str]:
        _normalise_schedule(report)
        if SCHEDULE_FIELDS & set(changed) or (report.is_active and report.next_run_at is None):
            report.next_run_at = _next_run(report)
        return ["weekday", "day_of_month", "next_run_at"]

    changed = model_update(
        instance=report, data=data, editable=EDITABLE_FIELDS, derive=schedule_follows, validate=lambda r: _validate(r, recipients)
    )
    if not changed:
        _validate(report, recipients)  # the recipients alone changed, or nothing did
    report.recipients.set(recipients)
    return report


def _normalise_schedule(report: Report) -> None:
    """Only the field the frequency uses is kept (a daily report has no weekday)."""
    if report.frequency != Frequency.WEEKLY:
        report.weekday = None
    if report.frequency != Frequency.MONTHLY:
        report.day_of_month = None


def _validate(report: Report, recipients: list[Any]) -> None:
    problems: dict[str, list[str]] = {}
    try:
        report.full_clean(exclude=["owner", "recipients"], validate_constraints=False)
    except ValidationError as error:
        problems.update(error.message_dict)
    try:
        check_report(report, recipients=recipients, emails=report.emails if isinstance(report.emails, list) else [])
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            problems.setdefault(field, []).extend(messages)
    if problems:
        raise ValidationError(problems)


def _next_run(report: Report) -> dt.datetime | None:
    return next_slot_after(report.schedule, timezone.now()) if report.is_active else None


class AlreadyRequested(Exception):
    """Send now was pressed again while its delivery is on its way or done: nothing new is queued; the message says so."""

    def __init__(self, delivery: ReportDelivery, message: str) -> None:
        super().__init__(message)
        self.delivery = delivery
        self.message = message


@transaction.atomic
def report_send_now(*, report: Report, by: Any, token: str = "") -> ReportDelivery:
    """Queue a delivery of the report now, outside its schedule (the "Send now" button), once per press.

    `token` is the press's one-time token (the page renders one): the same token again (a double
    click, a retried request) raises AlreadyRequested with the first delivery, as does any press
    while an earlier manual delivery of the report is still on its way.
    """
    require(by, "reports.send", report)
    report = Report.objects.select_for_update().get(pk=report.pk)  # presses of one report, one at a time
    if token:
        earlier = ReportDelivery.objects.filter(report=report, request_token=token).first()
        if earlier is not None:
            raise AlreadyRequested(earlier, _repeat_message(earlier))
    pending = (
        ReportDelivery.objects.filter(report=report, trigger=DeliveryTrigger.MANUAL)
        .exclude(status__in=[DeliveryStatus.SENT, DeliveryStatus.FAILED])
        .first()
    )
    if pending is not None:
        raise AlreadyRequested(pending, _("This report is being sent already; it goes out once."))
    delivery = ReportDelivery.objects.create(report=report, trigger=DeliveryTrigger.MANUAL, requested_by=by, request_token=token)
    transaction.on_commit(partial(enqueue_delivery, delivery.pk), robust=True)
    return delivery


def _repeat_message(delivery: ReportDelivery) -> str:
    if delivery.status == DeliveryStatus.SENT:
        when = timezone.localtime(delivery.finished_at or delivery.created_at)
        return _("This report was sent already (at %(time)s); it is not sent twice. Reload the page to send it again.") % {
            "time": f"{when:%H:%M}"
        }
    if delivery.status == DeliveryStatus.FAILED:
        return _("This request failed: %(why)s Reload the page to try again.") % {"why": delivery.error}
    return _("This report is being sent already; it goes out once.")


def report_send_here(*, report: Report) -> ReportDelivery:
    """Make and send a delivery in this process, now (the command line's `report run --send`)."""
    delivery = ReportDelivery.objects.create(report=report, trigger=DeliveryTrigger.COMMAND)
    delivery_run(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery


def report_preview(*, report: Report, by: Any) -> ReportContent:
    """The report as `by` would receive it now, to look at or download without sending it to anyone."""
    refused = preview_refusal(report, by)
    if refused:
        raise PermissionDenied(refused)
    return build_content(report, as_of=timezone.now())


def report_download(*, report: Report, by: Any, fmt: str) -> tuple[str, bytes]:
    """One format of the report as of now, for `by` alone: nothing is sent or kept."""
    return render_files(report_preview(report=report, by=by), [fmt])[fmt]


def report_render(*, report: Report, fmt: str, as_of: dt.datetime | None = None) -> tuple[str, bytes]:
    """One format of the report as of now (or `as_of`), without sending or keeping it; checked as a delivery is."""
    check_report(report, recipients=report.recipients.filter(is_active=True), emails=report.emails)
    content = build_content(report, as_of=as_of or timezone.now())
    return render_files(content, [fmt])[fmt]
