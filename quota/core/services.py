"""Helpers every domain's services share."""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models

from quota.core.visibility import can_change

M = TypeVar("M", bound=models.Model)


def require_change(user: Any, record: models.Model) -> None:
    """Refuse a change `user` may not make, with a message that says why."""
    if user is None:
        return  # system work: imports, seeds, tasks
    if not can_change(user, record):
        raise PermissionDenied(f"You may not change this {record._meta.verbose_name}: it belongs to another person or team.")


def model_update(*, instance: M, data: dict[str, Any], user: Any = None) -> tuple[M, bool]:
    """Set the fields in `data` that differ, validate, and save only those."""
    require_change(user, instance)
    changed = [name for name, value in data.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, data[name])
    if changed:
        instance.full_clean()
        instance.save(update_fields=changed)
    return instance, bool(changed)
