from typing import Any

from django.contrib import admin

from quota.webforms.models import WebForm, WebFormSubmission


@admin.register(WebForm)
class WebFormAdmin(admin.ModelAdmin):
    list_display = ["name", "target", "source", "owner", "is_active", "created_at"]
    list_filter = ["target", "is_active"]
    search_fields = ["name", "key"]
    readonly_fields = ["key", "created_at"]
    raw_id_fields = ["owner", "created_by"]


@admin.register(WebFormSubmission)
class WebFormSubmissionAdmin(admin.ModelAdmin):
    """A received submission is a record of what was sent: it cannot be edited."""

    list_display = ["form", "created_at", "lead", "case"]
    list_filter = ["form"]
    search_fields = ["reference", "idempotency_key"]
    list_select_related = ["form", "lead", "case"]
    raw_id_fields = ["form", "lead", "case"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: Any, obj: WebFormSubmission | None = None) -> Any:
        return [field.name for field in WebFormSubmission._meta.fields] if obj else []
