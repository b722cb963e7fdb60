import django_filters as filters

from quota.core.filtersets import FilterSet
from quota.marketing.models import Campaign


class CampaignFilterSet(FilterSet):
    source = filters.CharFilter(field_name="source__key")

    class Meta:
        model = Campaign
        fields = ["channel", "source", "owner"]
