"""A database rule a row broke, said in words with the row's values.

The writer leaves check and unique constraints to the database (full_clean does not run them, to keep
a query per row out of the way), and the database names only the constraint. Its condition is plain
data (a Q of field lookups), so the values that break it are found by evaluating it against the
record: "converted on 2024-01-03, before created on 2024-02-01" rather than
"lead_converted_after_created". A condition this cannot read (a join, an expression) is said in
general words.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

# Comparisons, and how each one failing is said (dates, other values).
FAILED: dict[str, tuple[str, str]] = {
    "gte": ("before", "less than"),
    "gt": ("not after", "not more than"),
    "lte": ("after", "more than"),
    "lt": ("not before", "not less than"),
}
UNKNOWN = None  # a leaf whose truth cannot be told from the record (NULL in SQL: a CHECK lets it pass)
CONTEXT = "\x00"  # marks a phrase that only sets the scene ("converted is 2024-01-03"), left out beside a real one


def describe(constraint: models.BaseConstraint, record: models.Model) -> str:
    """Why the database refused `record` under `constraint`, with the values involved."""
    meta = record._meta
    if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
        values = ", ".join(_field_and_value(record, name) for name in constraint.fields)
        return f"another {meta.verbose_name} has the same {values}"
    condition = getattr(constraint, "condition", None)
    if isinstance(condition, Q):
        phrases: list[str] = []
        if _explain(condition, record, phrases) is False and phrases:
            said = [p for p in phrases if not p.startswith(CONTEXT)] or [p.lstrip(CONTEXT) for p in phrases]
            return ", and ".join(dict.fromkeys(said))
    return f"{meta.verbose_name_plural} must keep the rule {constraint.name.replace('_', ' ')!r}"


def _explain(node: Q, record: models.Model, phrases: list[str]) -> bool | None:
    """Evaluate `node` for the record, adding to `phrases` what makes it false (if it is)."""
    results: list[tuple[bool | None, list[str]]] = []
    for child in node.children:  # Q children: nested Qs and (lookup, value) pairs
        said: list[str] = []
        if isinstance(child, Q):
            truth = _explain(child, record, said)
        else:
            lookup, value = child  # type: ignore[misc]
            truth = _leaf(lookup, value, record, said)
        results.append((truth, said))
    if node.connector == Q.AND:
        truth = False if any(t is False for t, _ in results) else (True if all(t for t, _ in results) else UNKNOWN)
    else:
        truth = True if any(t for t, _ in results) else (False if all(t is False for t, _ in results) else UNKNOWN)
    failing = [said for t, said in results if t is False]
    if node.negated and truth is not UNKNOWN:
        truth = not truth
        failing = [said for t, said in results if t is True]
    if truth is False:
        for said in failing:
            phrases.extend(said)
    return truth


def _leaf(lookup: str, wanted: Any, record: models.Model, said: list[str]) -> bool | None:
    """A `field__lookup=value` test; `said` gets how it came out (read by the caller when it breaks the rule)."""
    name, _, kind = lookup.partition("__")
    kind = kind or "exact"
    field = _field(record, name)
    if field is None or "__" in kind:
        return UNKNOWN
    value = getattr(record, field.attname)
    label = str(field.verbose_name)
    if kind == "isnull":
        is_null = value is None or value == ""
        said.append(f"{label} is blank" if is_null else f"{CONTEXT}{label} is {_shown(field, value)}")
        return is_null == bool(wanted)
    if isinstance(wanted, F):
        other = _field(record, str(wanted.name))  # type: ignore[attr-defined]
        if other is None:
            return UNKNOWN
        other_value = getattr(record, other.attname)
        right = f"{other.verbose_name}{_on(other)} {_shown(other, other_value)}"
        wanted = other_value
    elif isinstance(wanted, models.Expression):
        return UNKNOWN
    else:
        right = _shown(field, wanted)
    if value is None or wanted is None:
        return UNKNOWN
    left = f"{label}{_on(field)} {_shown(field, value)}"
    if kind in FAILED:
        try:
            truth = {"gte": value >= wanted, "gt": value > wanted, "lte": value <= wanted, "lt": value < wanted}[kind]
        except TypeError:
            return UNKNOWN
        dated = isinstance(value, dt.date)
        said.append(f"{left}, {FAILED[kind][0]} {right}" if dated else f"{left} is {FAILED[kind][1]} {right}")
        return bool(truth)
    if kind in ("exact", "in"):  # alternatives (an OR) make "not X" misleading: the value itself says it
        said.append(f"{label} is {_shown(field, value)}")
        return bool(value == wanted) if kind == "exact" else value in wanted
    return UNKNOWN


def _field(record: models.Model, name: str) -> models.Field | None:
    try:
        field = record._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return field if isinstance(field, models.Field) and field.concrete else None


def _on(field: models.Field) -> str:
    return " on" if isinstance(field, models.DateField) else ""


def _field_and_value(record: models.Model, name: str) -> str:
    field = _field(record, name)
    if field is None:
        return name
    return f"{field.verbose_name} {_shown(field, getattr(record, field.attname))}"


def _shown(field: models.Field, value: Any) -> str:
    if value is None or value == "":
        return "blank"
    if isinstance(value, dt.datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        return local.date().isoformat() if local.time() == dt.time.min else local.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    labels = {str(key): str(text) for key, text in field.flatchoices} if field.choices else {}
    return repr(labels.get(str(value), str(value)))
