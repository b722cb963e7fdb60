"""In-app notifications (early warnings, work due, stale deals), and each person's e-mail preference.

Early warnings are also e-mailed one by one as they happen; work due and stale deals are in the app only,
and in the optional daily digest (off unless the person turns it on).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    TARGET_BEHIND = "target_behind", _("Target behind pace")
    REP_STALLING = "rep_stalling", _("Rep stalling")
    TARGET_UNLIKELY = "target_unlikely", _("Target unlikely to be reached")
    PIPELINE_THIN = "pipeline_thin", _("Pipeline too thin for the target")
    TASK_DUE = "task_due", _("Task due")
    FOLLOW_UP_DUE = "follow_up_due", _("Follow-up due")
    DEALS_STALE = "deals_stale", _("Stale deals")


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


class NotificationPreference(models.Model):
    """What one person wants by e-mail beyond the early warnings: a daily digest (off by default).

    `digest_sent_at` is when the last digest went (or was taken by a scheduler): the next one tells
    what came since, and a scheduler takes a day's digest with a conditional update, so it goes once.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_preference",
    )
    daily_digest = models.BooleanField(
        _("daily e-mail digest"),
        default=False,
        help_text=_("Every morning, an e-mail with the unread notifications of the day before."),
    )
    digest_sent_at = models.DateTimeField(_("last digest"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"{self.user_id}: digest {'on' if self.daily_digest else 'off'}"
