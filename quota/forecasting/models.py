"""The learned win probability: each trained model with its evaluation, and each open deal's current score.

A `WinModel` row is written every time the model is trained, whether it learned something or fell back to the
stage probabilities (too few closed deals): the latest row says which method the forecast uses. A learned
model is kept as plain JSON (coefficients, scaling, categories and calibration points, see
`forecasting.learning.model`), not as a pickle: it is readable, diffable, and loading it runs no code.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
