"""Shared building blocks: timestamps, exchange rates, heartbeats of background processes."""

from __future__ import annotations

from django.db import models

from quota.core.money import CURRENCIES


class ExchangeRate(models.Model):
    """How much of the company currency one unit of `currency` is worth from `valid_from` on."""

    currency = models.CharField(max_length=3, choices=CURRENCIES)
    valid_from = models.DateField()
    rate = models.DecimalField(max_digits=18, decimal_places=8)

    class Meta:
        ordering = ["currency", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "valid_from"], name="exchangerate_unique_day"),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="exchangerate_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.rate} from {self.valid_from}"


class Heartbeat(models.Model):
    """The last sign of life of a background process or periodic job (`key`), for /healthz and the embedded scheduler.

    Keys: "worker" (a Celery worker ran the heartbeat task), "scheduler" (the embedded scheduler's
    last pass) and "periodic:<name>" (when the embedded scheduler last ran that periodic task).
    """

    key = models.CharField(max_length=100, unique=True)
    at = models.DateTimeField()
    detail = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.key} at {self.at:%Y-%m-%d %H:%M:%S}"
