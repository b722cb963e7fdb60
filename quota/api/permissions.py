from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission


class ReadOnlyForViewers(BasePermission):
    """Viewers read; changing anything needs another role (record rules are the services')."""

    message = "Your role (viewer) may read but not change records."

    def has_permission(self, request: Any, view: Any) -> bool:
        return request.method in SAFE_METHODS or getattr(request.user, "role", None) != "viewer"


class ConfigurationWrite(BasePermission):
    """Pipelines, stages, sources, loss reasons and custom fields are changed by admins and directors."""

    message = "Only an administrator or director may change the configuration."

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return bool(request.user.is_superuser or getattr(request.user, "role", None) in {"admin", "director"})
