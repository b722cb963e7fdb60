import django_filters as filters
from django.utils.translation import gettext_lazy

from quota.core.filtersets import FilterSet, OpenOnFilter, owner_team_filter
from quota.service.models import Case, SurveyAnswer


class CaseFilterSet(FilterSet):
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    team = owner_team_filter()
    kpi_source = "cases"
    open_on = OpenOnFilter(begins="created_at", ends="resolved_at", label=gettext_lazy("open at the end of"))

    class Meta:
        model = Case
        fields = ["status", "priority", "owner", "company", "contact"]


class SurveyAnswerFilterSet(FilterSet):
    class Meta:
        model = SurveyAnswer
        fields = ["kind", "score", "owner", "company", "contact", "case"]
