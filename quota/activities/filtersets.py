import django_filters as filters
from django.utils.translation import gettext_lazy

from quota.activities.models import Activity
from quota.core.filtersets import FilterSet


class ActivityFilterSet(FilterSet):
    after = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte", label=gettext_lazy("From"))
    before = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt", label=gettext_lazy("Before"))

    class Meta:
        model = Activity
        fields = ["kind", "direction", "answered", "held", "owner", "deal", "contact", "company"]
