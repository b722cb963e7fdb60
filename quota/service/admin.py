from django.contrib import admin

from quota.service.models import Case, SurveyAnswer


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["number", "subject", "status", "priority", "owner", "created_at", "first_response_at", "resolved_at"]
    list_filter = ["status", "priority"]
    search_fields = ["number", "subject"]
    raw_id_fields = ["company", "contact", "owner"]
    list_select_related = ["owner"]


@admin.register(SurveyAnswer)
class SurveyAnswerAdmin(admin.ModelAdmin):
    list_display = ["kind", "score", "contact", "case", "owner", "answered_at"]
    list_filter = ["kind"]
    raw_id_fields = ["contact", "company", "case", "owner"]
