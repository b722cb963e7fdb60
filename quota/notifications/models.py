"""In-app notifications (early warnings and the like), each also sent by e-mail."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    TARGET_BEHIND = "target_behind", _("Target behind pace")
    REP_STALLING = "rep_stalling", _("Rep stalling")


class Notification(models.Model):
    """A message to one person. The dedupe key names what it is about and when (a target in its
    period, a rep in a week): unique per person, so a check that runs every hour tells them once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=NotificationKind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True, default="")
    link = models.CharField(_("link"), max_length=300, blank=True, default="")
    dedupe_key = models.CharField(_("about"), max_length=120)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]
        constraints = [models.UniqueConstraint(fields=["user", "dedupe_key"], name="notification_once_per_person")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


UNREAD = Q(read_at__isnull=True)
