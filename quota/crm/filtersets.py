"""One FilterSet per record: the list pages and the API filter the same way."""

import django_filters as filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from quota.core.filtersets import FilterSet
from quota.crm.models import Company, Contact, Deal, DealStageChange, Lead
from quota.crm.selectors import overdue_deals, stale_deals


class CompanyFilterSet(FilterSet):
    name = filters.CharFilter(lookup_expr="icontains")
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Company
        fields = ["name", "industry", "country", "owner", "external_id", "domain"]


class ContactFilterSet(FilterSet):
    name = filters.CharFilter(field_name="last_name", lookup_expr="icontains")
    email = filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Contact
        fields = ["company", "owner", "email", "external_id"]


class LeadFilterSet(FilterSet):
    source = filters.CharFilter(field_name="source__key")
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Lead
        fields = ["status", "source", "owner", "campaign"]


class DealFilterSet(FilterSet):
    title = filters.CharFilter(lookup_expr="icontains")
    source = filters.CharFilter(field_name="source__key")
    min_amount = filters.NumberFilter(field_name="amount", lookup_expr="gte")
    max_amount = filters.NumberFilter(field_name="amount", lookup_expr="lte")
    closed_after = filters.IsoDateTimeFilter(field_name="closed_at", lookup_expr="gte")
    closed_before = filters.IsoDateTimeFilter(field_name="closed_at", lookup_expr="lt")
    expected_close_after = filters.DateFilter(field_name="expected_close_date", lookup_expr="gte")
    expected_close_before = filters.DateFilter(field_name="expected_close_date", lookup_expr="lte")
    flag = filters.ChoiceFilter(label=_("flag"), choices=[("overdue", _("Overdue")), ("stale", _("Stale"))], method="filter_flag")

    def filter_flag(self, queryset: QuerySet[Deal], name: str, value: str) -> QuerySet[Deal]:
        """Overdue or stale open deals, as crm.selectors defines them."""
        return overdue_deals(queryset) if value == "overdue" else stale_deals(queryset)

    class Meta:
        model = Deal
        fields = ["status", "pipeline", "stage", "owner", "company", "business_type", "source", "loss_reason", "external_id"]


class DealStageChangeFilterSet(FilterSet):
    class Meta:
        model = DealStageChange
        fields = ["deal", "to_stage", "to_status"]
