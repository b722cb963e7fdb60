import django_filters as filters

from quota.activities.models import Activity
from quota.core.filtersets import FilterSet, owner_team_filter
from quota.kpi.filters import KpiFilter


class ActivityFilterSet(FilterSet):
    after = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    before = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    team = owner_team_filter()
    kpi = KpiFilter(source="activities")

    class Meta:
        model = Activity
        fields = ["kind", "direction", "answered", "held", "owner", "deal", "contact", "company"]
