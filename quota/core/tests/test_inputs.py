"""The limits on input: dates Quota computes with, JSON nesting, NUL characters."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError

from quota.core.inputs import (
    EARLIEST_DAY,
    LATEST_DAY,
    MAX_JSON_DEPTH,
    BoundedJSONField,
    JSONTooDeep,
    has_nul,
    json_depth,
    load_json,
    validate_supported_day,
)

DEEP = "[" * 20_000 + "]" * 20_000


def test_json_depth_counts_lists_and_objects_without_recursion():
    assert json_depth(1) == 0
    assert json_depth({"a": 1}) == 1
    assert json_depth({"a": [1, {"b": []}]}) == 4
    deep: list = []
    for _ in range(50_000):  # deeper than Python could recurse
        deep = [deep]
    assert json_depth(deep) == MAX_JSON_DEPTH + 1  # counting stops once too deep


def test_load_json_refuses_deep_nesting_with_a_value_error():
    assert load_json('{"a": [1, 2]}') == {"a": [1, 2]}
    with pytest.raises(JSONTooDeep, match="nested more than 32 levels"):
        load_json(DEEP)
    with pytest.raises(JSONTooDeep):
        load_json("[" * 40 + "]" * 40)  # parsed, but deeper than allowed
    assert load_json("[" * 32 + "]" * 32) is not None
    with pytest.raises(ValueError):
        load_json("{not json")


def test_the_form_field_says_too_deep_instead_of_crashing():
    field = BoundedJSONField(required=False)
    assert field.clean('[{"field": "amount"}]') == [{"field": "amount"}]
    with pytest.raises(ValidationError, match="nested more than 32 levels"):
        field.clean(DEEP)
    assert str(field.bound_data(DEEP, None)) == DEEP  # redisplayed as typed
    assert field.has_changed(None, DEEP)


@pytest.mark.parametrize("day", [EARLIEST_DAY, LATEST_DAY, dt.date(2026, 3, 1), dt.datetime(2026, 3, 1, 12, 0)])
def test_days_quota_computes_with_pass(day):
    validate_supported_day(day)


@pytest.mark.parametrize("day", [dt.date.min, dt.date.max, dt.date(1899, 12, 31), dt.date(3000, 1, 1), dt.datetime.max])
def test_days_near_the_ends_of_the_calendar_are_refused(day):
    with pytest.raises(ValidationError, match="Choose a date between"):
        validate_supported_day(day)


def test_has_nul():
    assert has_nul(["a", "b\x00"]) and not has_nul(["a", "b"]) and not has_nul([])
    assert json.loads('"\\u0000"') == "\x00"  # what a JSON body's escape becomes
