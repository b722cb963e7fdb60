from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "quota.core"
    label = "core"
    verbose_name = "Core"
