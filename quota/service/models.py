"""Customer service: cases with response times, and satisfaction (CSAT, NPS) answers."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from quota.core.visibility import VisibleQuerySet


class CaseStatus(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Waiting for customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


class CasePriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


# Hours allowed until the first response, per priority (the SLA).
FIRST_RESPONSE_SLA_HOURS = {"low": 48, "normal": 24, "high": 8, "urgent": 2}


class Case(models.Model):
    """A customer's request or problem, from creation to resolution."""

    number = models.CharField(_("number"), max_length=40, unique=True)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True, default="")
    company = models.ForeignKey(
        "crm.Company", verbose_name=_("company"), null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    contact = models.ForeignKey(
        "crm.Contact", verbose_name=_("contact"), null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(_("status"), max_length=10, choices=CaseStatus.choices, default=CaseStatus.NEW)
    priority = models.CharField(_("priority"), max_length=8, choices=CasePriority.choices, default=CasePriority.NORMAL)
    channel = models.CharField(_("channel"), max_length=20, blank=True, default="")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    response_due_at = models.DateTimeField(_("response due"), null=True, blank=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            models.Index(fields=["created_at"]),
            models.Index(fields=["status"]),
            # The SLA breach rate: the cases due in a period, from the index alone.
            models.Index(fields=["response_due_at"], include=["first_response_at", "owner"], name="case_due"),
            # The service board's oldest open cases: the first few in this index, not every case read by age.
            models.Index(
                fields=["created_at", "id"],
                condition=Q(status__in=[CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.PENDING]),
                name="case_open_by_age",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(first_response_at__isnull=True) | Q(first_response_at__gte=F("created_at")),
                name="case_response_after_created",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=F("created_at")),
                name="case_resolved_after_created",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number}: {self.subject}"

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.first_response_at and self.created_at and self.first_response_at < self.created_at:
            errors["first_response_at"] = _("The first response cannot come before the case was created.")
        if self.resolved_at and self.created_at and self.resolved_at < self.created_at:
            errors["resolved_at"] = _("A case cannot be resolved before it was created.")
        if self.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED) and not self.resolved_at:
            errors["resolved_at"] = _("A resolved or closed case needs the time it was resolved.")
        if errors:
            raise ValidationError(errors)


class SurveyKind(models.TextChoices):
    CSAT = "csat", _("CSAT (1-5)")
    NPS = "nps", _("NPS (0-10)")


SCORE_RANGE = {SurveyKind.CSAT: (1, 5), SurveyKind.NPS: (0, 10)}


class SurveyAnswer(models.Model):
    """One customer's satisfaction (CSAT 1-5) or recommendation (NPS 0-10) score."""

    kind = models.CharField(_("survey"), max_length=4, choices=SurveyKind.choices)
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), blank=True, default="")
    contact = models.ForeignKey(
        "crm.Contact", verbose_name=_("contact"), null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_answers"
    )
    company = models.ForeignKey(
        "crm.Company", verbose_name=_("company"), null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_answers"
    )
    case = models.ForeignKey(
        Case, verbose_name=_("case"), null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_answers"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("attributed to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered"), default=timezone.now)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["-answered_at"]
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        indexes = [models.Index(fields=["kind", "answered_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=SurveyKind.CSAT, score__gte=1, score__lte=5)
                | Q(kind=SurveyKind.NPS, score__gte=0, score__lte=10),
                name="surveyanswer_score_in_range",
            ),
            models.CheckConstraint(
                condition=Q(contact__isnull=False) | Q(case__isnull=False) | Q(company__isnull=False),
                name="surveyanswer_linked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.score}"

    def clean(self) -> None:
        low, high = SCORE_RANGE.get(self.kind, (0, 10))  # type: ignore[call-overload]
        if self.score is not None and not low <= self.score <= high:
            raise ValidationError({"score": _("The score must be between %(low)s and %(high)s.") % {"low": low, "high": high}})
        if not (self.contact_id or self.case_id or self.company_id):
            raise ValidationError(_("Link the answer to a contact, a case or a company."))
