"""Forms for campaigns."""

from __future__ import annotations

from quota.core.views import RecordForm
from quota.marketing.models import Campaign


class CampaignForm(RecordForm):
    class Meta:
        model = Campaign
        fields = ["name", "channel", "source", "owner", "starts_on", "ends_on", "spend", "currency"]
