"""DRF permissions: each asks one named permission of core.permissions (the one place that decides).

A refusal is DRF's JSON 403 with the permission's reason as `detail`; record rules (whose record
this is) stay the services' and `visible_to`'s.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission

from quota.core.permissions import refusal


def allows(permission: str, *, writes_only: bool = False) -> type[BasePermission]:
    """A DRF permission class granting what `user.has_perm(permission)` grants (reads too, if `writes_only`)."""

    class Allows(BasePermission):
        def has_permission(self, request: Any, view: Any) -> bool:
            if writes_only and request.method in SAFE_METHODS:
                return True
            self.message = refusal(permission)
            return bool(request.user.has_perm(permission))

    Allows.__name__ = Allows.__qualname__ = f"Allows[{permission}{', writes' if writes_only else ''}]"
    return Allows


class ChangesTheRecord(BasePermission):
    """A write to one record needs `records.change` on it: checked by `get_object()`, before any payload is read."""

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        self.message = refusal("records.change", obj)
        return bool(request.user.has_perm("records.change", obj))


# Viewers read; changing anything needs a role that changes some records (`records.create`).
ReadOnlyForViewers = allows("records.create", writes_only=True)
# Pipelines, stages, sources, loss reasons, custom fields and products: `configuration.change`.
ConfigurationWrite = allows("configuration.change", writes_only=True)
