from quota.marketing.views import CampaignPages

app_name = "marketing"
urlpatterns = [*CampaignPages.urls()]
