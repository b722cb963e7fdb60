"""Who reads the whole audit trail (a record's own history is shown to whoever sees the record)."""

from __future__ import annotations

from typing import Any

AUDIT_ROLES = {"admin", "director"}


def can_view_audit(user: Any) -> bool:
    """Administrators (and superusers) and directors read the audit page and export it."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_superuser or user.role in AUDIT_ROLES)
