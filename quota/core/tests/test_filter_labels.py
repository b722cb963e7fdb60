"""Every filter of every record list has a human label, in the page's language, and yes/no filters say "Any"."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.functional import Promise

from quota.activities.filtersets import ActivityFilterSet
from quota.core.views import RecordListView
from quota.crm.filtersets import DealFilterSet, LeadFilterSet

# What django-filter writes when it names a filter after its lookup or its field path.
GENERATED = re.compile(r"(?i:is greater|is less|is in\b|is null|contains|\bkey\b|_|\[invalid)|\bId\b")


def _list_filtersets(patterns=None):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _list_filtersets(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and getattr(pattern.callback, "view_class", None) is RecordListView:
            filterset_class = pattern.callback.view_initkwargs["pages"].filterset_class
            if filterset_class is not None:
                yield filterset_class


FILTERSETS = sorted(set(_list_filtersets()), key=lambda cls: cls.__name__)


def test_the_walk_finds_the_lists():
    assert {DealFilterSet, LeadFilterSet, ActivityFilterSet} <= set(FILTERSETS)
    assert len(FILTERSETS) >= 10


@pytest.mark.parametrize("filterset_class", FILTERSETS, ids=lambda cls: cls.__name__)
def test_no_label_is_generated(filterset_class):
    labels = {name: str(field.label) for name, field in filterset_class().form.fields.items()}
    generated = {name: label for name, label in labels.items() if GENERATED.search(label)}
    assert not generated


def test_bounds_read_as_words():
    labels = {name: str(field.label) for name, field in DealFilterSet().form.fields.items()}
    assert labels["closed_after"] == "Closed from"
    assert labels["closed_before"] == "Closed before"  # `lt` the day asked for: that day is not included
    assert labels["expected_close_before"] == "Expected close date until"  # `lte`: it is
    assert labels["min_amount"] == "Amount at least"
    assert labels["max_amount"] == "Amount at most"
    assert labels["source"] == "Source"


def test_labels_are_translated_when_shown_not_when_the_class_is_made():
    # Lazy: the class is made once, at import, but each page shows the label in its own language.
    assert all(isinstance(field.label, Promise) for field in DealFilterSet().form.fields.values())


def test_yes_no_filters_offer_any_yes_no():
    field = ActivityFilterSet().form.fields["answered"]
    assert [str(label) for _value, label in field.widget.choices] == ["Any", "Yes", "No"]
    assert "Unknown" not in field.widget.render("answered", None)


@pytest.mark.django_db
@pytest.mark.parametrize(("value", "answered"), [("", None), ("true", True), ("false", False)])
def test_yes_no_filters_read_any_yes_and_no(value, answered):
    filterset = ActivityFilterSet({"answered": value})
    assert filterset.is_valid()
    assert filterset.form.cleaned_data["answered"] is answered
