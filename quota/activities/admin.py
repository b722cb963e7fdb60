from django.contrib import admin

from quota.activities.models import Activity


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["kind", "subject", "owner", "occurred_at", "direction", "answered", "duration_seconds"]
    list_filter = ["kind", "direction", "answered"]
    search_fields = ["subject"]
    raw_id_fields = ["owner", "deal", "contact", "company"]
    list_select_related = ["owner"]
    show_full_result_count = False
