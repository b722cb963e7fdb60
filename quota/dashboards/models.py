"""What a user adds to their dashboards: extra KPI cards, shown after the dashboard's own."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from quota.dashboards.access import BOARD_LABELS
from quota.kpi.models import KEY_VALIDATOR

BOARD_CHOICES = [(board.value, label) for board, label in BOARD_LABELS.items()]


class DashboardCard(models.Model):
    """A KPI (by key, so always its current version) on one of a user's dashboards."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="dashboard_cards"
    )
    board = models.CharField(_("dashboard"), max_length=16, choices=BOARD_CHOICES)
    metric_key = models.CharField(_("KPI"), max_length=64, validators=[KEY_VALIDATOR])
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        ordering = ["user", "board", "position", "id"]
        verbose_name = _("dashboard card")
        verbose_name_plural = _("dashboard cards")
        constraints = [models.UniqueConstraint(fields=["user", "board", "metric_key"], name="dashboardcard_unique_kpi")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.board}: {self.metric_key}"
