import django_filters as filters

from quota.core.filtersets import FilterSet
from quota.service.models import Case, SurveyAnswer


class CaseFilterSet(FilterSet):
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Case
        fields = ["status", "priority", "owner", "company", "contact"]


class SurveyAnswerFilterSet(FilterSet):
    class Meta:
        model = SurveyAnswer
        fields = ["kind", "score", "owner", "company", "contact", "case"]
