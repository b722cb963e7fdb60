"""Webhook subscriptions and their delivery log (one delivery per event and subscription, one attempt per POST)."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from quota.core import events

EVENT_LABELS = {
    events.LEAD_CREATED: _("Lead created"),
    events.DEAL_STAGE_CHANGED: _("Deal stage changed"),
    events.DEAL_WON: _("Deal won"),
    events.DEAL_LOST: _("Deal lost"),
    events.CASE_CREATED: _("Case created"),
    events.TARGET_MET: _("Target met"),
}
EVENT_CHOICES = [(name, EVENT_LABELS.get(name, name)) for name in events.EVENTS]


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class WebhookSubscription(models.Model):
    """An outside system (an ERP, an EDI gateway) that wants to hear about some events, at one URL."""

    url = models.URLField(_("URL"), max_length=500, validators=[URLValidator(schemes=["http", "https"])])
    description = models.CharField(_("description"), max_length=200, blank=True, default="")
    events = models.JSONField(_("events"), default=list, help_text=_("The events sent to this URL."))
    secret = models.CharField(_("signing secret"), max_length=64, default=new_secret, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "pk"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self) -> str:
        return self.description or self.url

    def clean(self) -> None:
        if not isinstance(self.events, list) or not self.events:
            raise ValidationError({"events": _("Choose at least one event.")})
        unknown = sorted({str(name) for name in self.events} - set(events.EVENTS))
        if unknown:
            raise ValidationError({"events": _("Unknown events: %(names)s.") % {"names": ", ".join(unknown)}})
        self.events = [name for name in events.EVENTS if name in self.events]  # one order, no duplicates

    def wants(self, event: str) -> bool:
        return self.is_active and event in self.events

    def get_event_labels(self) -> list[str]:
        return [str(EVENT_LABELS.get(name, name)) for name in self.events]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One event for one subscription: what was sent, how many attempts, and how it ended."""

    subscription = models.ForeignKey(
        WebhookSubscription, verbose_name=_("subscription"), on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(_("event"), max_length=40, choices=EVENT_CHOICES)
    # The same for every subscription told about one event, and kept by redeliveries: receivers deduplicate on it.
    event_id = models.UUIDField(_("event id"), default=uuid.uuid4)
    # Sent as X-Quota-Delivery.
    uuid = models.UUIDField(_("delivery id"), default=uuid.uuid4, unique=True, editable=False)
    payload = models.JSONField(_("payload"), default=dict, encoder=DjangoJSONEncoder)
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    response_code = models.PositiveSmallIntegerField(_("last response code"), null=True, blank=True)
    response_excerpt = models.TextField(_("last response (excerpt)"), blank=True, default="")
    error = models.TextField(_("last error"), blank=True, default="")
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    redelivery_of = models.ForeignKey(
        "self", verbose_name=_("redelivery of"), null=True, blank=True, on_delete=models.SET_NULL, related_name="redeliveries"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(fields=["subscription", "-created_at"], name="webhook_delivery_log"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=DeliveryStatus.SUCCEEDED) | Q(delivered_at__isnull=False),
                name="webhook_delivery_succeeded_has_time",
            ),
            models.CheckConstraint(
                condition=Q(status=DeliveryStatus.PENDING) | Q(next_attempt_at__isnull=True),
                name="webhook_delivery_finished_not_scheduled",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription.url}"


class WebhookAttempt(models.Model):
    """One POST of a delivery: when, how long, and what the receiver answered (or what went wrong)."""

    delivery = models.ForeignKey(
        WebhookDelivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveSmallIntegerField(_("attempt"))
    attempted_at = models.DateTimeField(_("attempted"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    response_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    response_excerpt = models.TextField(_("response (excerpt)"), blank=True, default="")
    error = models.TextField(_("error"), blank=True, default="")
    succeeded = models.BooleanField(_("succeeded"), default=False)

    class Meta:
        ordering = ["delivery", "number"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_unique_number")]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}"
