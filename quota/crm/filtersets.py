"""One FilterSet per record: the list pages and the API filter the same way."""

import datetime as dt

import django_filters as filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from quota.core.filtersets import FilterSet, open_moment, owner_team_filter
from quota.crm.choices import Lifecycle
from quota.crm.history_selectors import in_stage_then, open_then
from quota.crm.models import Company, Contact, Deal, DealStageChange, Lead
from quota.crm.selectors import overdue_deals, stale_deals


class CompanyFilterSet(FilterSet):
    name = filters.CharFilter(lookup_expr="icontains")
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    lifecycle = filters.ChoiceFilter(label=_("lifecycle"), choices=Lifecycle.choices)
    churned_after = filters.DateFilter(field_name="churned_on", lookup_expr="gte")
    churned_before = filters.DateFilter(field_name="churned_on", lookup_expr="lt")

    class Meta:
        model = Company
        fields = ["name", "industry", "country", "owner", "external_id", "domain", "lifecycle", "churn_reason"]


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
    team = owner_team_filter()
    kpi_source = "leads"

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

    team = owner_team_filter()
    kpi_source = "deals"
    # A past day's pipeline, read from the deals' history (crm.history_selectors): open then, in that stage then.
    open_on = filters.DateFilter(method="open_at_end_of", label=gettext_lazy("open at the end of"))
    stage_on = filters.NumberFilter(method="in_stage_on", label=gettext_lazy("stage on that day"))

    class Meta:
        model = Deal
        fields = ["status", "pipeline", "stage", "owner", "company", "business_type", "source", "loss_reason", "external_id"]

    def open_at_end_of(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        """Deals open at the end of that day (company time), by their history."""
        return queryset.filter(open_then(open_moment(value)))

    def in_stage_on(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        """Deals that were in stage `value` at the end of the `open_on` day (now without one), by their history."""
        day = self.form.cleaned_data.get("open_on")
        if not day:
            return queryset.filter(stage=value)
        return queryset.filter(in_stage_then(open_moment(day), value))


class DealStageChangeFilterSet(FilterSet):
    class Meta:
        model = DealStageChange
        fields = ["deal", "to_stage", "to_status"]
