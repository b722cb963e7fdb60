from django.contrib import admin

from quota.core.models import ExchangeRate, Heartbeat


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ["currency", "valid_from", "rate"]
    list_filter = ["currency"]


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    """Signs of life of the worker and the embedded scheduler (what /healthz reads)."""

    list_display = ["key", "at", "detail"]
    search_fields = ["key"]
