"""Who reads the whole audit trail (a record's own history is shown to whoever sees the record).

The rule itself is `audit.view` in quota.core.permissions, the one place that decides who may do what.
"""

from __future__ import annotations

from typing import Any


def can_view_audit(user: Any) -> bool:
    """Administrators (and superusers) and directors read the audit page and export it."""
    return bool(getattr(user, "is_authenticated", False) and user.has_perm("audit.view"))
