from django.contrib import admin

from quota.api.models import IdempotencyKey


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    """The API's remembered requests: a key, its endpoint and the response replayed to a retry."""

    list_display = ["key", "endpoint", "user", "status_code", "created_at", "expires_at"]
    search_fields = ["key", "endpoint"]
    raw_id_fields = ["user"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
