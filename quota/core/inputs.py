"""Limits on what a request, a form or a file may hand to Quota, each with a message that says what to fix.

Bad input gets a 4xx and a reason, never a 500 half-way through a query or a write:

- NUL characters: PostgreSQL refuses them in text and JSON ("A string literal cannot contain NUL
  (0x00) characters"), SQLite keeps them silently. `has_nul` is what `middleware.RejectNulMiddleware`
  checks in every query parameter, form field and JSON body, so no view has to.
- Dates: period arithmetic near `date.min`/`date.max` overflows (the year containing 9999-12-31
  ends in year 10000). Every date a person asks for (a period, a filter, a command-line range)
  lies between EARLIEST_DAY and LATEST_DAY: far from both ends, and wider than any business need.
- JSON: the standard parser recurses once per nesting level and a body of 20,000 "[" raises
  RecursionError. `load_json` turns that into a ValueError and caps the depth of what it returns;
  `BoundedJSONField` does the same for Django forms (the admin, the KPI builder).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext as _

NUL = "\x00"

EARLIEST_DAY = dt.date(1900, 1, 1)
LATEST_DAY = dt.date(2999, 12, 31)

# Deeper than any structure Quota keeps (KPI filters nest a handful of levels), far below Python's recursion limit.
MAX_JSON_DEPTH = 32


def has_nul(values: Iterable[str]) -> bool:
    return any(NUL in value for value in values)


# --------------------------------------------------------------------------- dates


def day_out_of_range_message() -> str:
    return _("Choose a date between %(first)s and %(last)s.") % {
        "first": date_format(EARLIEST_DAY, "DATE_FORMAT"),
        "last": date_format(LATEST_DAY, "DATE_FORMAT"),
    }


def validate_supported_day(value: dt.date | dt.datetime | None) -> None:
    """A Django validator: the date (or the date of a datetime, as written) lies in the range Quota computes with."""
    if value is None:
        return
    day = value.date() if isinstance(value, dt.datetime) else value
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValidationError(day_out_of_range_message(), code="date_out_of_range")


# --------------------------------------------------------------------------- JSON


class JSONTooDeep(ValueError):
    pass


def too_deep_message(limit: int = MAX_JSON_DEPTH) -> str:
    return _("The JSON is nested more than %(limit)s levels deep; send a flatter structure.") % {"limit": limit}


def json_depth(value: Any, *, stop_after: int = MAX_JSON_DEPTH) -> int:
    """How deeply lists and objects nest in `value` (a scalar is 0), counted without recursion.

    Counting stops one level past `stop_after`: the answer is then only "too deep".
    """
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > stop_after:
            return deepest
        pending.extend((child, depth) for child in children)
    return deepest


def check_json_depth(value: Any, *, limit: int = MAX_JSON_DEPTH) -> Any:
    if json_depth(value, stop_after=limit) > limit:
        raise JSONTooDeep(too_deep_message(limit))
    return value


def load_json(text: str | bytes, *, limit: int = MAX_JSON_DEPTH, **kwargs: Any) -> Any:
    """json.loads that refuses structures nested deeper than `limit` with a ValueError, never a RecursionError."""
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:
        raise JSONTooDeep(too_deep_message(limit)) from None
    return check_json_depth(value, limit=limit)


class BoundedJSONField(forms.JSONField):
    """A form's JSON field that says "nested too deeply" instead of failing with a RecursionError."""

    def to_python(self, value: Any) -> Any:
        try:
            converted = super().to_python(value)
        except RecursionError:
            raise ValidationError(too_deep_message(), code="too_deep") from None
        try:
            return check_json_depth(converted)
        except JSONTooDeep as exc:
            raise ValidationError(str(exc), code="too_deep") from None

    def bound_data(self, data: Any, initial: Any) -> Any:
        try:
            return super().bound_data(data, initial)
        except RecursionError:  # redisplayed as the text that was typed
            return forms.fields.InvalidJSONInput(data)

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return super().has_changed(initial, data)
        except RecursionError:
            return True


def problem_lines(exc: ValidationError) -> list[str]:
    """A refused input's problems as "field: message" lines (for the command line)."""
    if hasattr(exc, "error_dict"):
        return [f"{name}: {message}" for name, messages in exc.message_dict.items() for message in messages]
    return list(exc.messages)
