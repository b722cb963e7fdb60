import django_filters as filters
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from quota.activities.models import Activity
from quota.core.filtersets import FilterSet, owner_team_filter


class ActivityFilterSet(FilterSet):
    after = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte", label=gettext_lazy("From"))
    before = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt", label=gettext_lazy("Before"))
    done = filters.BooleanFilter(field_name="completed_at", lookup_expr="isnull", exclude=True, label=_("done"))
    team = owner_team_filter()
    kpi_source = "activities"

    class Meta:
        model = Activity
        fields = ["kind", "direction", "answered", "held", "owner", "deal", "contact", "company"]
