from django.contrib import admin

from quota.marketing.models import Campaign, CampaignRecipient


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "channel", "source", "starts_on", "ends_on", "spend", "currency"]
    list_filter = ["channel", "source"]
    search_fields = ["name"]
    raw_id_fields = ["owner"]


@admin.register(CampaignRecipient)
class CampaignRecipientAdmin(admin.ModelAdmin):
    list_display = ["campaign", "email", "sent_at", "opened_at", "clicked_at"]
    raw_id_fields = ["campaign", "contact"]
    show_full_result_count = False
