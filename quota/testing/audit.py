"""Helpers for tests of the audit trail."""

from typing import Any

from quota.audit.selectors import history_of


def recorded(record: Any, field: str | None = None) -> list[tuple[str, str, Any, Any, str | None]]:
    """A record's recorded changes, newest first: (action, field, old, new, actor's username or None)."""
    return [
        (entry.action_key, change.field, change.old, change.new, entry.actor.username if entry.actor else None)
        for entry in history_of(record)
        for change in entry.changes
        if field is None or change.field == field
    ]
