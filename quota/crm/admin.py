from typing import Any

from django.contrib import admin

from quota.crm.models import (
    ChurnReason,
    Company,
    Contact,
    CustomField,
    Deal,
    DealStageChange,
    DealState,
    Lead,
    LeadSource,
    LossReason,
    Pipeline,
    Stage,
)


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "domain", "industry", "country", "lifecycle", "customer_since", "churned_on", "owner", "created_at"]
    list_filter = ["lifecycle", "industry", "country", "churn_reason"]
    search_fields = ["name", "domain", "external_id"]
    raw_id_fields = ["owner"]
    list_select_related = ["owner"]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["last_name", "first_name", "email", "company", "owner"]
    search_fields = ["last_name", "first_name", "email"]
    raw_id_fields = ["company", "owner"]
    list_select_related = ["company", "owner"]


@admin.register(LeadSource)
class LeadSourceAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "direction", "is_system"]


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["title", "source", "status", "owner", "created_at"]
    list_filter = ["status", "source"]
    search_fields = ["title", "email", "company_name"]
    raw_id_fields = ["owner", "contact", "company", "campaign"]
    list_select_related = ["source", "owner"]
    date_hierarchy = "created_at"


class StageInline(admin.TabularInline):
    model = Stage
    extra = 0


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ["name", "is_default"]
    inlines = [StageInline]


@admin.register(ChurnReason)
class ChurnReasonAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "is_active"]


@admin.register(LossReason)
class LossReasonAdmin(admin.ModelAdmin):
    list_display = ["name", "follow_up_after_days", "is_active"]


class StageChangeInline(admin.TabularInline):
    model = DealStageChange
    extra = 0
    raw_id_fields = ["changed_by"]
    readonly_fields = ["from_stage", "to_stage", "from_status", "to_status", "changed_at", "changed_by"]
    can_delete = False


class StateInline(admin.TabularInline):
    """The deal's history (crm.history writes it; nobody edits it by hand)."""

    model = DealState
    extra = 0
    fields = ("valid_from", "valid_to", "stage", "status", "amount", "currency", "exchange_rate", "expected_close_date", "owner")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Deal)
class DealAdmin(admin.ModelAdmin):
    list_display = ["title", "company", "stage", "status", "amount", "currency", "owner", "expected_close_date", "closed_at"]
    list_filter = ["status", "pipeline", "business_type", "source"]
    search_fields = ["title", "company__name", "external_id"]
    raw_id_fields = ["company", "contact", "owner", "lead", "won_back_from"]
    list_select_related = ["company", "stage", "owner"]
    date_hierarchy = "created_at"
    inlines = [StageChangeInline, StateInline]


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    list_display = ["label", "key", "target", "field_type", "required"]
    list_filter = ["target", "field_type"]
