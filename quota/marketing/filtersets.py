import django_filters as filters

from quota.core.filtersets import FilterSet, owner_team_filter
from quota.marketing.models import Campaign


class CampaignFilterSet(FilterSet):
    source = filters.CharFilter(field_name="source__key")
    team = owner_team_filter()
    kpi_source = "campaigns"

    class Meta:
        model = Campaign
        fields = ["channel", "source", "owner"]
