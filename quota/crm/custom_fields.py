"""Custom fields: typed values the company adds to companies, contacts, leads and deals.

Values live in each record's `custom` JSON; `clean_custom_values` checks them against the
definitions and is called from the records' `clean()`, so every write path validates them.
"""

from __future__ import annotations

import datetime as dt
import reprlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from quota.core import dataversions
from quota.crm.choices import CustomFieldType


def clean_custom_values(*, target: str, values: dict[str, Any]) -> dict[str, Any]:
    """Check custom field values against their definitions; return them normalised (dates as ISO text)."""
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ValidationError({"custom": _("Custom fields must be given as a mapping of key to value.")})
    _check_size(values)
    fields = definitions(target)
    errors: dict[str, Any] = {}
    cleaned: dict[str, Any] = {}
    for key in values.keys() - fields.keys():
        shown = str(key)[:MAX_KEY_CHARS]
        errors[shown] = _("There is no custom field '%(key)s' on this record.") % {"key": shown}
    for key, field in fields.items():
        value = values.get(key)
        if value in (None, ""):
            if field.required:
                errors[key] = _("%(label)s is required.") % {"label": field.label}
            continue
        if not isinstance(value, SINGLE_VALUES):
            errors[key] = _("%(label)s takes a single value (text, a number or a date), not a list or an object.") % {
                "label": field.label
            }
            continue
        try:
            cleaned[key] = stored_value(field, value)
        except (ValueError, TypeError, ArithmeticError):
            errors[key] = _("%(value)r is not a valid %(type)s for %(label)s.") % {
                "value": _Quoted(value),
                "type": field.get_field_type_display(),
                "label": field.label,
            }
    if errors:
        raise ValidationError({"custom": [f"{k}: {v}" for k, v in sorted(errors.items())]})
    return cleaned


# Bounds on what a record's `custom` mapping may hold, whoever sends it (a form, the API, an import).
MAX_VALUES = 200  # keys; a record has as many as its definitions, a few dozen at most
MAX_TEXT_CHARS = 10_000  # per value: a paragraph, not a document
MAX_KEY_CHARS = 100  # of a key or value quoted in a message
SINGLE_VALUES = (str, int, float, bool, Decimal, dt.date)


class _Quoted:
    """A value in a message: `%r` shows its repr cut short (a text value may be ten thousand characters)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return reprlib.repr(self.value)


def _check_size(values: dict[str, Any]) -> None:
    """Refuse a mapping too large to be custom values, before any of it is read (or quoted in a message)."""
    if len(values) > MAX_VALUES:
        raise ValidationError({"custom": _("A record holds at most %(limit)s custom values.") % {"limit": MAX_VALUES}})
    for key, value in values.items():
        if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
            raise ValidationError(
                {
                    "custom": _("%(key)s: the value is longer than %(limit)s characters.")
                    % {"key": str(key)[:MAX_KEY_CHARS], "limit": f"{MAX_TEXT_CHARS:,}"}
                }
            )


def definitions(target: str) -> dict[str, Any]:
    """The custom fields of a record type, cached: every record's clean() asks, imports ask per row."""
    from django.core.cache import cache

    from quota.crm.models import CustomField

    dataversions.note_read(CustomField)  # a page kept whole that shows them depends on their table
    held = _held.get()
    if held is not None and target in held:
        return held[target]
    key = f"custom-fields:{target}:{cache.get_or_set('custom-fields-version', 1)}"
    fields = cache.get(key)
    if fields is None:
        fields = {field.key: field for field in CustomField.objects.filter(target=target)}
        cache.set(key, fields, 3600)
    if held is not None:
        held[target] = fields
    return fields


# Within `definitions_held()`, each record type's definitions are read from the cache once: an import
# validates a million records, and two cache round trips each (Redis in production) were most of it.
_held: ContextVar[dict[str, dict[str, Any]] | None] = ContextVar("custom_field_definitions_held", default=None)


@contextmanager
def definitions_held() -> Iterator[None]:
    token = _held.set({})
    try:
        yield
    finally:
        _held.reset(token)


def forget_definitions(**kwargs: Any) -> None:
    """Connected to CustomField saves and deletes (crm.apps)."""
    from django.core.cache import cache

    try:
        cache.incr("custom-fields-version")
    except ValueError:
        cache.set("custom-fields-version", 2)


def stored_value(field: Any, value: Any) -> Any:
    """`value` the way `custom` keeps it for the definition `field` (JSON-friendly); ValueError/TypeError if it is not one."""
    if field.field_type == CustomFieldType.NUMBER:
        if isinstance(value, bool):
            raise TypeError
        number = Decimal(str(value))
        if not number.is_finite():
            raise ValueError
        return float(number) if number != number.to_integral_value() else int(number)
    if field.field_type == CustomFieldType.DATE:
        return (value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))).isoformat()
    if field.field_type == CustomFieldType.BOOLEAN:
        return _boolean(value)
    if field.field_type == CustomFieldType.CHOICE:
        if value not in field.choices:
            raise ValueError
        return value
    return str(value)


def _boolean(value: Any) -> bool:
    """True or false, also given as the words a form, a file or JSON sends ("yes", "false", 1)."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().casefold()
    if word in ("true", "yes", "1", "on"):
        return True
    if word in ("false", "no", "0", "off"):
        return False
    raise ValueError(value)
