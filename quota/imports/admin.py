from django.contrib import admin

from quota.imports.models import ImportJob, ImportProblem, ImportRun, SavedMapping


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


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["file_name", "into", "preset", "phase", "state", "rows_total", "problems_total", "by", "created_at"]
    list_filter = ["phase", "state", "into", "preset"]
    search_fields = ["file_name"]
    raw_id_fields = ["by", "run"]
    list_select_related = ["by"]
    date_hierarchy = "created_at"


@admin.register(ImportProblem)
class ImportProblemAdmin(admin.ModelAdmin):
    list_display = ["job", "row", "column", "severity", "kind", "message"]
    list_filter = ["severity", "kind"]
    search_fields = ["message", "value", "column"]
    raw_id_fields = ["job"]
    list_select_related = ["job"]
