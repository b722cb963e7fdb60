"""What the API keeps besides the records: the Idempotency-Key of each creating request and its response."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IdempotencyKey(models.Model):
    """A client's `Idempotency-Key` on a POST and the response it got (see api.idempotency).

    Kept in the same transaction as the write, so the write and the memory of it commit together: a
    client that never saw the answer can retry and gets the first response, without a second write.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+")
    key = models.CharField(_("idempotency key"), max_length=255)
    endpoint = models.CharField(_("endpoint"), max_length=300, help_text=_("The method and path, e.g. POST /api/deals/."))
    fingerprint = models.CharField(_("request fingerprint"), max_length=64, help_text=_("SHA-256 of the request's data."))
    status_code = models.PositiveSmallIntegerField(_("response status"))
    content_type = models.CharField(_("response content type"), max_length=100, blank=True, default="")
    body = models.TextField(_("response body"), blank=True, default="")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["user", "key", "endpoint"], name="api_idempotency_once_per_user_endpoint"),
        ]
        indexes = [models.Index(fields=["expires_at"], name="api_idempotency_expires")]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.key}"
