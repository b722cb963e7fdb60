from django.contrib import admin

from quota.imports.models import ImportRun, SavedMapping


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ["title", "status", "preset", "created", "updated", "rejected", "by", "started_at"]
    list_filter = ["status", "preset"]
    search_fields = ["title", "reason"]
    raw_id_fields = ["by"]
    list_select_related = ["by"]
    date_hierarchy = "started_at"


@admin.register(SavedMapping)
class SavedMappingAdmin(admin.ModelAdmin):
    list_display = ["name", "into", "created_by", "updated_at"]
    list_filter = ["into"]
    search_fields = ["name"]
    raw_id_fields = ["created_by"]
    list_select_related = ["created_by"]
