from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "quota.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from quota.webhooks import receivers  # noqa: F401
