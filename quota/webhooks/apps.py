from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "quota.webhooks"
    label = "webhooks"
