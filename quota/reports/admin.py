from django.contrib import admin

from quota.reports.models import Report, ReportDelivery


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("name", "title", "owner", "frequency", "is_active", "next_run_at")
    list_filter = ("frequency", "is_active")
    search_fields = ("name", "title")
    raw_id_fields = ("owner", "scope_user")
    filter_horizontal = ("recipients",)


@admin.register(ReportDelivery)
class ReportDeliveryAdmin(admin.ModelAdmin):
    list_display = ("report", "slot", "trigger", "status", "progress", "attempts", "created_at", "finished_at")
    list_filter = ("status", "trigger")
    raw_id_fields = ("report", "requested_by")
    readonly_fields = ("lease_token", "lease_until", "attempts", "created_at", "enqueued_at", "started_at", "finished_at")
