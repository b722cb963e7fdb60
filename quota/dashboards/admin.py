from django.contrib import admin

from quota.dashboards.models import DashboardCard


@admin.register(DashboardCard)
class DashboardCardAdmin(admin.ModelAdmin):
    list_display = ["user", "board", "metric_key", "position", "created_at"]
    list_filter = ["board"]
    search_fields = ["user__username", "metric_key"]
    raw_id_fields = ["user"]
