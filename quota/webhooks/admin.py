from typing import Any

from django.contrib import admin
from django.db import models

from quota.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["url", "description", "is_active", "created_by", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]
    readonly_fields = ["secret", "created_at"]
    raw_id_fields = ["created_by"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["number", "attempted_at", "duration_ms", "response_code", "response_excerpt", "error", "succeeded"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """A recorded delivery is a log entry: it cannot be edited (redeliver it from the webhook pages)."""

    list_display = ["event", "subscription", "status", "attempts", "response_code", "created_at", "next_attempt_at"]
    list_filter = ["status", "event"]
    search_fields = ["uuid", "event_id", "subscription__url"]
    list_select_related = ["subscription"]
    raw_id_fields = ["subscription", "redelivery_of"]
    date_hierarchy = "created_at"
    inlines = [WebhookAttemptInline]

    def get_readonly_fields(self, request: Any, obj: WebhookDelivery | None = None) -> Any:
        return [field.name for field in WebhookDelivery._meta.fields] if obj else []


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(admin.ModelAdmin):
    list_display = ["delivery", "number", "attempted_at", "response_code", "succeeded"]
    list_filter = ["succeeded"]
    list_select_related = ["delivery"]
    raw_id_fields = ["delivery"]

    def get_readonly_fields(self, request: Any, obj: WebhookAttempt | None = None) -> Any:
        return [field.name for field in WebhookAttempt._meta.fields] if obj else []
