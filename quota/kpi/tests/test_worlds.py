"""The generated worlds hold every value that a built-in KPI's filters name.

A KPI filtered on a value that no generated record ever holds is None (or 0) in every example, and then
"matches" its reference without checking anything. Every filter of the catalogue on a field with choices (or
a yes/no field) must name only values that the worlds draw (worlds.CHOICES, which the strategies draw from).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from quota.kpi.catalogue import CATALOGUE
from quota.kpi.sources import get_source
from quota.kpi.tests.worlds import CHOICES

COMPARING = {"eq", "ne", "in", "not_in"}


def named_values(source_key: str, node: Any) -> Iterator[tuple[str, str, Any]]:
    """(model label, field name, value) for every comparison with a literal in a definition, nested ones included."""
    if isinstance(node, Mapping):
        if {"field", "op", "value"} <= set(node):
            value = node["value"]
            if node["op"] in {"exists", "not_exists"} and isinstance(value, Mapping):
                yield from named_values(value["source"], value.get("filters", []))
            elif node["op"] in COMPARING and not isinstance(value, Mapping):
                info = get_source(source_key).field(node["field"])
                model_field = info.model_field
                if model_field is not None and (model_field.choices or model_field.get_internal_type() == "BooleanField"):
                    for one in value if isinstance(value, list) else [value]:
                        yield model_field.model._meta.label, model_field.name, one
            return
        source_key = node.get("source", source_key)
        for key, child in node.items():
            if key != "value":
                yield from named_values(source_key, child)
    elif isinstance(node, list):
        for child in node:
            yield from named_values(source_key, child)


def catalogue_filter_values() -> dict[tuple[str, str], set[Any]]:
    found: dict[tuple[str, str], set[Any]] = {}
    for entry in CATALOGUE:
        for label, name, value in named_values(entry.definition["source"], entry.definition):
            found.setdefault((label, name), set()).add(value)
    return found


def test_the_walk_finds_the_filters_it_must_check():
    found = catalogue_filter_values()
    assert {"won", "lost"} <= found[("crm.Deal", "status")]  # win rate, won revenue, ...
    assert "call" in found[("activities.Activity", "kind")]
    assert "nps" in found[("service.SurveyAnswer", "kind")]


def test_every_value_a_catalogue_filter_names_is_drawn_by_the_worlds():
    missing = [
        f"{label}.{name} = {value!r}"
        for (label, name), values in sorted(catalogue_filter_values().items())
        for value in sorted(values, key=repr)
        if value not in CHOICES.get((label, name), [])
    ]
    assert not missing, "the generated worlds never hold these filtered values (add them to worlds.CHOICES):\n" + "\n".join(
        missing
    )


def test_the_worlds_choices_are_the_models_own():
    from django.apps import apps

    for (label, name), values in CHOICES.items():
        model_field = apps.get_model(label)._meta.get_field(name)
        allowed = {choice for choice, _ in model_field.choices} if model_field.choices else {True, False, None}
        assert set(values) <= allowed, f"{label}.{name}: {set(values) - allowed} is not a value the field takes"
