from typing import Any

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "quota.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from quota.core import dataversions, permissions  # noqa: F401  (permissions: registers them with django-rules)

        dataversions.connect()
        bound_admin_json_fields()


def bound_admin_json_fields() -> None:
    """Every admin form edits JSON through `BoundedJSONField`: deep nesting is a form error, not a RecursionError.

    The admin builds its forms from FORMFIELD_FOR_DBFIELD_DEFAULTS, copied into each ModelAdmin when it
    is registered (before this app is ready) and into each inline when a page is shown.
    """
    from django.contrib import admin
    from django.contrib.admin import options
    from django.db import models

    from quota.core.inputs import BoundedJSONField

    defaults: Any = options.FORMFIELD_FOR_DBFIELD_DEFAULTS
    defaults.setdefault(models.JSONField, {})["form_class"] = BoundedJSONField
    for model_admin in admin.site._registry.values():
        overrides: Any = model_admin.formfield_overrides
        overrides.setdefault(models.JSONField, {}).setdefault("form_class", BoundedJSONField)
