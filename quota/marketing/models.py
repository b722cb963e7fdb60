"""Campaigns: what they cost, whom they reached, who opened and clicked."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from quota.core.money import currency_field, money_field, rate_field
from quota.core.visibility import VisibleQuerySet


class CampaignChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SOCIAL = "social", _("Social media")
    ADS = "ads", _("Paid ads")
    EVENT = "event", _("Event")
    OTHER = "other", _("Other")


class Campaign(models.Model):
    """A marketing effort with a budget; its leads carry it, so CAC can be computed by source."""

    name = models.CharField(_("name"), max_length=200)
    channel = models.CharField(_("channel"), max_length=10, choices=CampaignChannel.choices, default=CampaignChannel.EMAIL)
    source = models.ForeignKey(
        "crm.LeadSource", verbose_name=_("lead source"), on_delete=models.PROTECT, related_name="campaigns"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"), null=True, blank=True)
    spend = money_field(_("spend"))
    currency = currency_field()
    exchange_rate = rate_field()

    rate_date_field = "starts_on"  # the exchange rate of this day applies
    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [
            models.CheckConstraint(condition=Q(spend__gte=0), name="campaign_spend_not_negative"),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")), name="campaign_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.ends_on and self.starts_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("A campaign cannot end before it starts.")})


class CampaignRecipient(models.Model):
    """One message of a campaign to one contact: when it was sent, opened and clicked."""

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="recipients")
    contact = models.ForeignKey(
        "crm.Contact", verbose_name=_("contact"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    email = models.EmailField(_("e-mail"))
    sent_at = models.DateTimeField(_("sent"))
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("clicked"), null=True, blank=True)

    owner_path = "campaign__owner"
    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["campaign", "sent_at"]
        verbose_name = _("campaign recipient")
        verbose_name_plural = _("campaign recipients")
        indexes = [models.Index(fields=["sent_at"])]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "email"], name="campaignrecipient_unique_email"),
            models.CheckConstraint(
                condition=Q(opened_at__isnull=True) | Q(opened_at__gte=F("sent_at")), name="campaignrecipient_open_after_send"
            ),
            models.CheckConstraint(
                condition=Q(clicked_at__isnull=True) | Q(opened_at__isnull=False), name="campaignrecipient_click_needs_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.email}"
