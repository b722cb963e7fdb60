"""The base of every FilterSet (pages, exports and the API): filters that cannot overflow.

A date far from today (9999-12-31 with a time zone, 0001-01-01) overflows when it is converted to
UTC or shifted, and a number of a million digits overflows the database's numeric type: each is a
form error, so a list page says why and the API answers 400, instead of a 500. (django-filter caps
a NumberFilter at 1e50 itself; this adds the same floor.)
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.core.validators import MinValueValidator
from django.utils.translation import gettext_lazy

from quota.core.inputs import validate_supported_day

NUMBER_FLOOR = MinValueValidator(-1e50)


class FilterSet(django_filters.FilterSet):
    @classmethod
    def get_filters(cls) -> dict[str, Any]:
        """The declared and generated filters, each bounded once, when the class is made."""
        filters = super().get_filters()
        for filter_ in filters.values():
            validators = filter_.extra.setdefault("validators", [])
            validators.extend(bound for bound in _bounds(filter_.field_class) if bound not in validators)
        return filters


def _bounds(field_class: type[forms.Field]) -> list[Any]:
    if issubclass(field_class, forms.DateField | forms.DateTimeField):
        return [validate_supported_day]
    if issubclass(field_class, forms.DecimalField):
        return [NUMBER_FLOOR]
    return []


def owner_team_filter(owner: str = "owner") -> django_filters.NumberFilter:
    """`?team=<id>`: the records whose owner is in that team (the KPI engine's team grouping), by its id."""
    return django_filters.NumberFilter(field_name=f"{owner}__team", label=gettext_lazy("team"))
