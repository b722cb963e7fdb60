from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "quota.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from quota.core import permissions  # noqa: F401  (registers every permission with django-rules)
