"""What people do: calls, e-mails, meetings and tasks, linked to a deal, contact or company.

One table for all kinds: activity races and counts are one grouped query, and the
largest table in the system stays one table to index and partition.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from quota.core.visibility import VisibleQuerySet


class ActivityKind(models.TextChoices):
    CALL = "call", _("Call")
    EMAIL = "email", _("E-mail")
    MEETING = "meeting", _("Meeting")
    TASK = "task", _("Task")


class Direction(models.TextChoices):
    INBOUND = "in", _("Inbound")
    OUTBOUND = "out", _("Outbound")


class Activity(models.Model):
    """A call, e-mail, meeting or task. Fields that do not apply to a kind stay empty."""

    kind = models.CharField(_("kind"), max_length=8, choices=ActivityKind.choices)
    subject = models.CharField(_("subject"), max_length=200, blank=True, default="")
    notes = models.TextField(_("notes"), blank=True, default="")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deal = models.ForeignKey(
        "crm.Deal", verbose_name=_("deal"), null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    contact = models.ForeignKey(
        "crm.Contact", verbose_name=_("contact"), null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    company = models.ForeignKey(
        "crm.Company", verbose_name=_("company"), null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    occurred_at = models.DateTimeField(_("when"), default=timezone.now, help_text=_("For a task: when it is due."))
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices, blank=True, default="")
    answered = models.BooleanField(_("answered"), null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    opened = models.BooleanField(_("opened"), null=True, blank=True)
    held = models.BooleanField(_("held"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    external_id = models.CharField(_("external id"), max_length=100, blank=True, default="")

    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [
            models.Index(fields=["occurred_at"]),
            models.Index(fields=["kind", "occurred_at"]),
            models.Index(fields=["owner", "kind", "occurred_at"]),
            models.Index(fields=["deal", "occurred_at"]),
            models.Index(fields=["contact", "occurred_at"]),
            # A person's open tasks (due today, overdue and how many): a few entries, not every task they ever had.
            models.Index(
                fields=["owner", "occurred_at"],
                condition=Q(kind=ActivityKind.TASK, completed_at__isnull=True),
                name="activity_open_task",
            ),
            # Imports find an activity by its external id whatever its letter case. Only the few
            # imported activities have one, so the index leaves out the millions without.
            models.Index(Lower("external_id"), condition=Q(external_id__gt=""), name="activity_external_id_folded"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[ActivityKind.CALL, ActivityKind.EMAIL]) | Q(direction=""),
                name="activity_direction_only_calls_emails",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=[ActivityKind.CALL, ActivityKind.EMAIL]) | ~Q(direction=""),
                name="activity_call_email_has_direction",
            ),
            models.CheckConstraint(
                condition=Q(kind=ActivityKind.CALL) | Q(answered__isnull=True), name="activity_answered_only_calls"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.kind in (ActivityKind.CALL, ActivityKind.EMAIL) and not self.direction:
            errors["direction"] = _("Say whether it was inbound or outbound.")
        if self.kind not in (ActivityKind.CALL, ActivityKind.EMAIL) and self.direction:
            errors["direction"] = _("Only calls and e-mails have a direction.")
        if self.kind != ActivityKind.CALL and self.answered is not None:
            errors["answered"] = _("Only calls are answered or not.")
        if self.kind == ActivityKind.CALL and self.answered is False and self.duration_seconds:
            errors["duration_seconds"] = _("An unanswered call has no talk time.")
        if self.kind != ActivityKind.EMAIL and self.opened is not None:
            errors["opened"] = _("Only e-mails are opened.")
        if self.kind != ActivityKind.MEETING and self.held is not None:
            errors["held"] = _("Only meetings are held or not.")
        if self.kind != ActivityKind.TASK and self.completed_at:
            errors["completed_at"] = _("Only tasks are completed.")
        if errors:
            raise ValidationError(errors)
