"""Web forms: public forms, embeddable on other sites, that create a lead or a service case."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from quota.service.models import CasePriority
from quota.webforms.fields import FieldSpec, clean_asked_fields, clean_origins, default_asked_fields


def new_form_key() -> str:
    return secrets.token_urlsafe(16)


class FormTarget(models.TextChoices):
    LEAD = "lead", _("Lead")
    CASE = "case", _("Service case")


class WebForm(models.Model):
    """A public form, found by its unguessable key, that creates a lead (tagged with its source) or a case."""

    name = models.CharField(_("name"), max_length=200)
    key = models.CharField(_("public key"), max_length=32, unique=True, default=new_form_key, editable=False)
    target = models.CharField(_("creates"), max_length=8, choices=FormTarget.choices, default=FormTarget.LEAD)
    source = models.ForeignKey(
        "crm.LeadSource",
        verbose_name=_("lead source"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="web_forms",
        help_text=_("The source its leads are tagged with."),
    )
    case_priority = models.CharField(_("case priority"), max_length=8, choices=CasePriority.choices, default=CasePriority.NORMAL)
    asked_fields = models.JSONField(_("fields"), default=default_asked_fields)
    thank_you_message = models.TextField(_("thank-you message"), blank=True, default="")
    allowed_origins = models.JSONField(
        _("allowed origins"), default=list, blank=True, help_text=_("Sites that may embed the form and post to it.")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assign to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Who gets the leads or cases; empty: the shared queue."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("web form")
        verbose_name_plural = _("web forms")
        constraints = [
            models.CheckConstraint(
                condition=~Q(target=FormTarget.LEAD) | Q(source__isnull=False), name="webform_lead_form_has_source"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, list[ValidationError]] = {}
        for field, cleaner in (("asked_fields", clean_asked_fields), ("allowed_origins", clean_origins)):
            try:
                setattr(self, field, cleaner(getattr(self, field)))
            except ValidationError as error:
                errors[field] = error.error_list
        if self.target == FormTarget.LEAD and not self.source_id:
            errors["source"] = [ValidationError(_("Choose the lead source its leads are tagged with."))]
        if errors:
            raise ValidationError(errors)

    def field_specs(self) -> list[FieldSpec]:
        return [FieldSpec(item["name"], bool(item.get("required"))) for item in self.asked_fields]


class WebFormSubmission(models.Model):
    """One accepted submission: what was sent and what it created. Its key makes a repeated submit a no-op."""

    form = models.ForeignKey(WebForm, verbose_name=_("web form"), on_delete=models.CASCADE, related_name="submissions")
    idempotency_key = models.CharField(_("idempotency key"), max_length=80)
    reference = models.UUIDField(_("reference"), default=uuid.uuid4, unique=True, editable=False)
    values = models.JSONField(_("values"), default=dict)
    utm = models.JSONField(_("UTM parameters"), default=dict, blank=True)
    language = models.CharField(_("language"), max_length=16, blank=True, default="")
    lead = models.ForeignKey(
        "crm.Lead", verbose_name=_("lead"), null=True, blank=True, on_delete=models.SET_NULL, related_name="web_form_submissions"
    )
    case = models.ForeignKey(
        "service.Case",
        verbose_name=_("case"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="web_form_submissions",
    )
    created_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("web form submission")
        verbose_name_plural = _("web form submissions")
        constraints = [
            # The guarantee behind "a double submit creates one record", also between concurrent requests.
            models.UniqueConstraint(fields=["form", "idempotency_key"], name="webform_submission_unique_key"),
            models.CheckConstraint(condition=Q(lead__isnull=True) | Q(case__isnull=True), name="webform_submission_one_record"),
        ]

    def __str__(self) -> str:
        return f"{self.form} · {self.created_at:%Y-%m-%d %H:%M}"
