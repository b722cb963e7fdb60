"""Running one delivery, once: claim it, render it (reporting progress), send it.

    queued -> running -> sending -> sent        (or -> failed, with the reason)

A worker claims a delivery with a lease (a token and a time it lapses). Every progress step
renews the lease and is a conditional update on the token, so the page sees progress at once and
a worker that lost its claim stops before sending. A task redelivered after its worker died finds
the claim still live and waits for it to lapse (`RunResult.retry_in`), then takes over; a
delivery already sent or failed is left alone.

The e-mail is the one step that cannot be undone or checked: a worker that dies between handing
the message to the mail server and recording it leaves the delivery in "sending". Whoever finds
it there marks it failed instead of sending again: at most one e-mail per delivery.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import uuid
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import FileField
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from quota.reports import conf
from quota.reports.choices import DeliveryStatus
from quota.reports.content import ReportContent, build_content
from quota.reports.mail import recipient_addresses, report_message
from quota.reports.models import Report, ReportDelivery
from quota.reports.renderers import RENDERERS, file_name
from quota.reports.validation import check_report

logger = logging.getLogger(__name__)

FILE_FIELDS = {"pdf": "pdf_file", "xlsx": "xlsx_file", "csv": "csv_file"}
RENDER_STEPS = {"pdf": 60, "xlsx": 75, "csv": 82}


class LeaseLost(Exception):
    """Another worker took the delivery over (this one was presumed dead): stop quietly."""


@dataclass(frozen=True)
class RunResult:
    retry_in: float | None = None  # seconds: someone else holds a live claim, or the mail server failed


DONE = RunResult()


class Heartbeat:
    """Progress updates that also renew the claim; each is committed at once for the page to poll."""

    def __init__(self, delivery_id: int, token: str) -> None:
        self.delivery_id = delivery_id
        self.token = token

    def __call__(self, percent: int, step: str, **fields: object) -> None:
        values = {
            "progress": min(percent, 100),
            "step": step[:120],
            "lease_until": timezone.now() + dt.timedelta(seconds=conf.lease_seconds()),
        }
        values.update(fields)
        if not ReportDelivery.objects.filter(pk=self.delivery_id, lease_token=self.token).update(**values):
            raise LeaseLost(self.delivery_id)


def delivery_run(*, delivery_id: int) -> RunResult:
    """Claim, render and send one delivery; safe to call any number of times for the same one."""
    token = uuid.uuid4().hex
    delivery, result = _claim(delivery_id, token)
    if delivery is None:
        return result
    try:
        return _render_and_send(delivery, Heartbeat(delivery.pk, token))
    except LeaseLost:
        logger.warning("Report delivery %s was taken over by another worker; this one stops.", delivery_id)
        return DONE


def _claim(delivery_id: int, token: str) -> tuple[ReportDelivery | None, RunResult]:
    now = timezone.now()
    with transaction.atomic():
        delivery = ReportDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or delivery.is_finished:
            return None, DONE
        live = delivery.lease_until is not None and delivery.lease_until > now
        if delivery.status in (DeliveryStatus.RUNNING, DeliveryStatus.SENDING) and live:
            assert delivery.lease_until is not None
            return None, RunResult(retry_in=(delivery.lease_until - now).total_seconds() + 1)
        if delivery.status == DeliveryStatus.SENDING:
            _set_finished(
                delivery,
                DeliveryStatus.FAILED,
                _(
                    "Interrupted while the e-mail was handed to the mail server, so it may have gone out. It is not sent "
                    "again, to avoid a duplicate: use Send now if it did not arrive."
                ),
            )
            return None, DONE
        delivery.status = DeliveryStatus.RUNNING
        delivery.lease_token = token
        delivery.lease_until = now + dt.timedelta(seconds=conf.lease_seconds())
        delivery.attempts += 1
        delivery.started_at = delivery.started_at or now
        delivery.progress = 0
        delivery.step = _("Started")
        delivery.error = ""
        delivery.save(
            update_fields=["status", "lease_token", "lease_until", "attempts", "started_at", "progress", "step", "error"]
        )
    return delivery, DONE


def _render_and_send(delivery: ReportDelivery, heartbeat: Heartbeat) -> RunResult:
    report = Report.objects.select_related("owner", "scope_user").get(pk=delivery.report_id)
    with translation.override(report.owner.language or settings.LANGUAGE_CODE):
        try:
            heartbeat(5, _("Checking the report"))
            # People who left are skipped, not a reason to stop the report for everyone else.
            check_report(report, recipients=report.recipients.filter(is_active=True), emails=report.emails)
            content = build_content(report, as_of=delivery.as_of, progress=heartbeat)
            files = render_files(content, report.formats, heartbeat)
            _store_files(delivery, heartbeat, files)
            to = recipient_addresses(report)
            heartbeat(90, _("Sending the e-mail"), status=DeliveryStatus.SENDING, recipients=to)
        except LeaseLost:
            raise
        except ValidationError as error:
            return _fail(heartbeat, _("The report cannot be sent as defined: %(why)s") % {"why": " ".join(error.messages)})
        except Exception as error:
            logger.exception("Report delivery %s failed", delivery.pk)
            return _fail(heartbeat, _("The report could not be made: %(why)s") % {"why": f"{type(error).__name__}: {error}"})
        try:
            report_message(
                content, to=to, files=[(name, data, RENDERERS[fmt].content_type) for fmt, (name, data) in files.items()]
            ).send()
        except (OSError, smtplib.SMTPException) as error:
            return _mail_refused(delivery, heartbeat, error)
        heartbeat(100, _("Sent"), status=DeliveryStatus.SENT, finished_at=timezone.now(), lease_until=None)
    return DONE


def render_files(content: ReportContent, formats: list[str], progress: Heartbeat | None = None) -> dict[str, tuple[str, bytes]]:
    """Each format's file name and bytes, in the order the report lists them."""
    files = {}
    for fmt in formats:
        if progress is not None:
            progress(RENDER_STEPS[fmt], _("Rendering the %(format)s") % {"format": fmt.upper()})
        files[fmt] = (file_name(content, fmt), RENDERERS[fmt].render(content))
    return files


def _store_files(delivery: ReportDelivery, heartbeat: Heartbeat, files: dict[str, tuple[str, bytes]]) -> None:
    """Keep the files for the history page; a retry's files replace the previous attempt's."""
    stored = {}
    for fmt, (name, data) in files.items():
        field = cast(FileField, delivery._meta.get_field(FILE_FIELDS[fmt]))
        stored[FILE_FIELDS[fmt]] = field.storage.save(field.generate_filename(delivery, name), ContentFile(data))
    previous = [getattr(delivery, name) for name in FILE_FIELDS.values() if getattr(delivery, name)]
    try:
        heartbeat(88, _("Files saved"), **stored)
    except LeaseLost:
        for name in stored.values():
            cast(FileField, ReportDelivery._meta.get_field("pdf_file")).storage.delete(name)
        raise
    for old in previous:
        if old.name:
            old.storage.delete(old.name)


def _mail_refused(delivery: ReportDelivery, heartbeat: Heartbeat, error: Exception) -> RunResult:
    """The mail server did not take the message, so trying again cannot send it twice."""
    reason = _("The mail server refused the message: %(why)s") % {"why": error}
    if delivery.attempts >= conf.send_attempts():
        return _fail(heartbeat, reason)
    retry_in = 60.0 * delivery.attempts
    heartbeat(
        0, _("Waiting to try again"), status=DeliveryStatus.QUEUED, error=reason, lease_token="", enqueued_at=timezone.now()
    )
    return RunResult(retry_in=retry_in)


def _fail(heartbeat: Heartbeat, reason: str) -> RunResult:
    heartbeat(100, _("Failed"), status=DeliveryStatus.FAILED, error=reason, finished_at=timezone.now(), lease_until=None)
    return DONE


def _set_finished(delivery: ReportDelivery, status: str, error: str = "") -> None:
    delivery.status = status
    delivery.error = error
    delivery.finished_at = timezone.now()
    delivery.lease_until = None
    delivery.save(update_fields=["status", "error", "finished_at", "lease_until"])
