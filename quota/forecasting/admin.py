"""The forecast's records in the admin: trained models, scores and calls are written by the app, read here."""

from typing import Any

from django.contrib import admin

from quota.forecasting.models import DealScore, ForecastCall, WinModel


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(WinModel)
class WinModelAdmin(ReadOnlyAdmin):
    list_display = ["version", "method", "trained_at", "closed_deals", "training_deals"]


@admin.register(DealScore)
class DealScoreAdmin(ReadOnlyAdmin):
    list_display = ["deal", "probability", "model", "scored_at"]
    raw_id_fields = ["deal"]
    list_select_related = ["deal", "model"]


@admin.register(ForecastCall)
class ForecastCallAdmin(ReadOnlyAdmin):
    list_display = ["start", "end", "method", "user", "team", "amount", "made_by", "made_at"]
    list_filter = ["method", "start"]
    list_select_related = ["user", "team", "made_by"]
