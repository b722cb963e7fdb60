"""The learned win probability: each trained model with its evaluation, and each open deal's current score.

A `WinModel` row is written every time the model is trained, whether it learned something or fell back to the
stage probabilities (too few closed deals): the latest row says which method the forecast uses. A learned
model is kept as plain JSON (coefficients, scaling, categories and calibration points, see
`forecasting.learning.model`), not as a pickle: it is readable, diffable, and loading it runs no code.

Forecast calls: the number someone (or the system) said a period would bring, kept for ever.

A call is about one scope (a person, a team, or the company when both are empty) and one period (a month or a
quarter). It is never overwritten: a new call is a new row, so what each method said on each day can be held
against what the period brought (forecasting.calls.forecast_accuracy).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from quota.core.money import money_field


class WinModelMethod(models.TextChoices):
    LEARNED = "learned", _("Learned from closed deals")
    STAGE = "stage", _("Stage probabilities")


class WinModel(models.Model):
    """One training of the win-probability model: what it learned from and how well it scored on later deals."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    method = models.CharField(_("method"), max_length=8, choices=WinModelMethod.choices)
    trained_at = models.DateTimeField(_("trained"), default=timezone.now)
    closed_deals = models.PositiveIntegerField(_("closed deals"), help_text=_("Closed deals known when it was trained."))
    training_deals = models.PositiveIntegerField(_("deals trained on"), default=0)
    training_examples = models.PositiveIntegerField(_("examples trained on"), default=0)
    evaluation = models.JSONField(
        _("evaluation"), default=dict, blank=True, help_text=_("Brier score and log loss on later deals, for it and the stages.")
    )
    features = models.JSONField(_("features"), default=list, blank=True)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("trained by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-version"]
        verbose_name = _("win model")
        verbose_name_plural = _("win models")

    def __str__(self) -> str:
        return f"v{self.version} ({self.method})"

    @property
    def is_learned(self) -> bool:
        return self.method == WinModelMethod.LEARNED


class DealScore(models.Model):
    """An open deal's current win probability from a learned model, and the factors that moved it most."""

    deal = models.OneToOneField("crm.Deal", verbose_name=_("deal"), on_delete=models.CASCADE, related_name="score")
    model = models.ForeignKey(WinModel, verbose_name=_("model"), on_delete=models.CASCADE, related_name="scores")
    probability = models.FloatField(_("win probability"))
    factors = models.JSONField(_("top factors"), default=list, blank=True)
    scored_at = models.DateTimeField(_("scored"), default=timezone.now)

    class Meta:
        ordering = ["deal"]
        verbose_name = _("deal score")
        verbose_name_plural = _("deal scores")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(probability__gte=0, probability__lte=1), name="dealscore_probability_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.probability:.3f} (v{self.model_id})"


class CallMethod(models.TextChoices):
    COMMIT = "commit", pgettext_lazy("forecast", "Commit")  # a person's own call (not an import's commit)
    ADJUSTED = "adjusted", _("Manager's call")  # a manager's or director's call for someone else, a team, the company
    MODEL = "model", _("Model P50")  # the ranges' P50, recorded by the system each day
    WEIGHTED = "weighted", _("Won + weighted pipeline")  # the forecast card's number, recorded by the system each day


SYSTEM_METHODS = (CallMethod.MODEL, CallMethod.WEIGHTED)


class ForecastCall(models.Model):
    """What a period will bring for a person, a team or the company, as said by someone or recorded by the system."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="forecast_calls",
    )
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.CASCADE, related_name="forecast_calls"
    )
    start = models.DateField(_("from"))
    end = models.DateField(_("to (inclusive)"))
    amount = money_field(_("amount"), validators=[MinValueValidator(0)])  # in the company currency
    method = models.CharField(_("method"), max_length=8, choices=CallMethod.choices)
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("made by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Empty for the system's records."),
    )
    made_at = models.DateTimeField(_("made"), default=timezone.now)
    day = models.DateField(_("day"), help_text=_("The company's day the call was made on."))

    class Meta:
        ordering = ["start", "made_at", "pk"]
        verbose_name = _("forecast call")
        verbose_name_plural = _("forecast calls")
        indexes = [models.Index(fields=["start", "end", "method"], name="forecastcall_period_method")]
        constraints = [
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="forecastcall_ends_after_start"),
            models.CheckConstraint(condition=Q(user__isnull=True) | Q(team__isnull=True), name="forecastcall_one_scope"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="forecastcall_amount_not_negative"),
            # The system records each method once per company day, per scope and period (NULLs are distinct in a
            # unique index, so each scope kind has its own).
            models.UniqueConstraint(
                fields=["user", "start", "end", "method", "day"],
                condition=Q(user__isnull=False, method__in=SYSTEM_METHODS),
                name="forecastcall_system_once_person",
            ),
            models.UniqueConstraint(
                fields=["team", "start", "end", "method", "day"],
                condition=Q(team__isnull=False, method__in=SYSTEM_METHODS),
                name="forecastcall_system_once_team",
            ),
            models.UniqueConstraint(
                fields=["start", "end", "method", "day"],
                condition=Q(user__isnull=True, team__isnull=True, method__in=SYSTEM_METHODS),
                name="forecastcall_system_once_company",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.scope_label} {self.start}..{self.end}: {self.amount}"

    @property
    def scope_label(self) -> str:
        if self.user_id:
            return str(self.user)
        if self.team_id:
            return str(self.team)
        return str(_("Company"))
