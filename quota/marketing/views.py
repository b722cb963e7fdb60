"""Campaign pages."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from quota.core.views import Column, RecordPages, RelatedList
from quota.crm.forms import use_source_choices
from quota.marketing.filtersets import CampaignFilterSet
from quota.marketing.forms import CampaignForm
from quota.marketing.models import Campaign


class CampaignPages(RecordPages):
    model = Campaign
    slug = "campaigns"
    filterset_class = CampaignFilterSet
    form_class = CampaignForm
    search_fields = ("name",)
    related = ("source", "owner")
    columns = (
        Column("name", link=True, sort="name"),
        Column("channel", sort="channel"),
        Column("source", sort="source__name"),
        Column("starts_on", sort="starts_on"),
        Column("ends_on", sort="ends_on"),
        Column("spend", sort="spend"),
        Column("owner", sort="owner__last_name"),
    )
    detail_fields = (
        Column("channel"),
        Column("source"),
        Column("owner"),
        Column("starts_on"),
        Column("ends_on"),
        Column("spend"),
    )
    related_lists = (RelatedList(gettext_lazy("Leads"), "quota.crm.views.LeadPages", "campaign"),)

    @classmethod
    def prepare_filter_form(cls, form: Any, user: Any) -> None:
        use_source_choices(form)
