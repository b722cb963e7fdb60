from django.apps import AppConfig


class MarketingConfig(AppConfig):
    name = "quota.marketing"
    label = "marketing"
