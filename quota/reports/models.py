"""Report definitions (what, for whom, how often) and their deliveries (the history, with the files)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from quota.reports.choices import (
    FINISHED,
    LAST_DAY,
    LATEST_FIXED_DAY,
    DeliveryStatus,
    DeliveryTrigger,
    Frequency,
    Grouping,
    ReportFormat,
    Weekday,
)
from quota.reports.slots import Schedule


def _default_formats() -> list[str]:
    return [ReportFormat.PDF.value]


class Report(models.Model):
    """A report someone defined: KPIs and tables for a scope and periods, sent on a schedule.

    The scope is a person's view of the records (`scope_user`, the owner when empty): numbers are
    evaluated, and tables read, exactly as that person may see them. The schedule is data (this
    row), not a beat entry, so it is edited in the app; `next_run_at` is its next slot.
    """

    name = models.CharField(_("name"), max_length=200, unique=True, help_text=_("E.g. Monthly board pack."))
    # What the command line and file names use: made from the first name, and kept when the name changes
    # so that a scheduled `quota report run weekly-sales` goes on working.
    key = models.SlugField(_("key"), max_length=64, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="reports")
    scope_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("as seen by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The report shows what this person may see; empty: what the owner sees."),
    )
    kpis = models.JSONField(_("KPIs"), default=list, blank=True, help_text=_("KPI keys, in the order shown."))
    group_by = models.CharField(_("breakdown"), max_length=8, choices=Grouping.choices, default=Grouping.NONE)
    periods = models.JSONField(_("periods"), default=list, blank=True)
    tables = models.JSONField(_("tables"), default=list, blank=True)
    formats = models.JSONField(_("formats"), default=_default_formats, blank=True)
    frequency = models.CharField(_("frequency"), max_length=8, choices=Frequency.choices, default=Frequency.WEEKLY)
    weekday = models.PositiveSmallIntegerField(_("weekday"), null=True, blank=True, choices=Weekday.choices)
    day_of_month = models.SmallIntegerField(_("day of the month"), null=True, blank=True)
    send_at = models.TimeField(_("time"), default=dt.time(7, 0), help_text=_("In the company's time zone."))
    recipients = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("recipients"), blank=True, related_name="+")
    emails = models.JSONField(_("other e-mail addresses"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    next_run_at = models.DateTimeField(_("next run"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        indexes = [models.Index(fields=["is_active", "next_run_at"], name="report_due")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(frequency=Frequency.WEEKLY) | Q(weekday__isnull=False, weekday__lte=6),
                name="report_weekly_has_weekday",
            ),
            models.CheckConstraint(
                condition=~Q(frequency=Frequency.MONTHLY)
                | Q(day_of_month__gte=1, day_of_month__lte=LATEST_FIXED_DAY)
                | Q(day_of_month=LAST_DAY),
                name="report_monthly_day_exists_every_month",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.key:
            self.key = unique_key(self.name)
        super().save(*args, **kwargs)

    @property
    def schedule(self) -> Schedule:
        return Schedule(self.frequency, self.send_at, self.weekday, self.day_of_month)

    @property
    def scope_person(self) -> Any:
        """Whose view of the records the report shows."""
        return self.scope_user if self.scope_user_id else self.owner


def unique_key(name: str) -> str:
    """weekly-sales from "Weekly sales"; weekly-sales-2 when that is taken."""
    base = slugify(name)[:56].strip("-") or "report"
    key, number = base, 2
    while Report.objects.filter(key=key).exists():
        key, number = f"{base}-{number}", number + 1
    return key


def delivery_upload_to(delivery: ReportDelivery, filename: str) -> str:
    # A random folder: the files are served only through the history page's permission check,
    # and the name must not be guessable if the media folder is ever served directly.
    return f"reports/{uuid.uuid4().hex}/{filename}"


class ReportDelivery(models.Model):
    """One sending of a report: its status and progress while it renders, then the files sent.

    A scheduled delivery names its slot; (report, slot) is unique, so a slot is claimed once and
    sent once however often the scheduler or a retried task tries. Manual ones have no slot; the page's
    "Send now" posts a one-time token instead, and (report, request_token) is unique, so a press that is
    retried or repeated makes no second delivery.
    """

    report = models.ForeignKey(Report, verbose_name=_("report"), on_delete=models.CASCADE, related_name="deliveries")
    slot = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    trigger = models.CharField(_("trigger"), max_length=8, choices=DeliveryTrigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    step = models.CharField(_("step"), max_length=120, blank=True, default="")
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    lease_token = models.CharField(_("claimed by"), max_length=32, blank=True, default="")
    lease_until = models.DateTimeField(_("claim lapses"), null=True, blank=True)
    recipients = models.JSONField(_("sent to"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True, default="")
    pdf_file = models.FileField(_("PDF"), upload_to=delivery_upload_to, max_length=200, blank=True)
    xlsx_file = models.FileField(_("XLSX"), upload_to=delivery_upload_to, max_length=200, blank=True)
    csv_file = models.FileField(_("CSV"), upload_to=delivery_upload_to, max_length=200, blank=True)
    request_token = models.CharField(_("request token"), max_length=64, blank=True, default="")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    enqueued_at = models.DateTimeField(_("queued"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("report delivery")
        verbose_name_plural = _("report deliveries")
        indexes = [models.Index(fields=["status", "enqueued_at"], name="report_delivery_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "slot"], condition=Q(slot__isnull=False), name="report_delivery_once_per_slot"
            ),
            models.UniqueConstraint(
                fields=["report", "request_token"], condition=~Q(request_token=""), name="report_delivery_once_per_request"
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="report_delivery_progress_max_100"),
            models.CheckConstraint(
                condition=Q(trigger=DeliveryTrigger.SCHEDULE) | Q(slot__isnull=True), name="report_delivery_slot_only_scheduled"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.report_id} {self.slot or self.created_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def as_of(self) -> dt.datetime:
        """The moment the report's periods are relative to: its slot, or when it was asked for."""
        return self.slot or self.created_at

    def file_for(self, fmt: str) -> models.fields.files.FieldFile | None:
        field = {"pdf": self.pdf_file, "xlsx": self.xlsx_file, "csv": self.csv_file}.get(fmt)
        return field if field else None

    @property
    def files(self) -> list[tuple[str, models.fields.files.FieldFile]]:
        return [(fmt, field) for fmt in ("pdf", "xlsx", "csv") if (field := self.file_for(fmt))]
