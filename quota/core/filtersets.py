"""The base of every FilterSet (pages, exports and the API): filters that cannot overflow.

A date far from today (9999-12-31 with a time zone, 0001-01-01) overflows when it is converted to
UTC or shifted, and a number of a million digits overflows the database's numeric type: each is a
form error, so a list page says why and the API answers 400, instead of a 500. (django-filter caps
a NumberFilter at 1e50 itself; this adds the same floor.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, ClassVar

import django_filters
from django import forms
from django.core.validators import MinValueValidator
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy

from quota.core.calendar import local_midnight
from quota.core.inputs import validate_supported_day

NUMBER_FLOOR = MinValueValidator(-1e50)


# Filters that a higher layer adds to record lists (kpi adds `?kpi=<key>`): provider(filterset class) -> filters.
FilterProvider = Callable[[type["FilterSet"]], dict[str, django_filters.Filter]]
_providers: list[FilterProvider] = []


def register_filter_provider(provider: FilterProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


class FilterSet(django_filters.FilterSet):
    # The KPI source whose records the list shows ("deals"), for the filters a provider adds by it.
    kpi_source: ClassVar[str | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for provider in _providers:
            for name, filter_ in provider(type(self)).items():
                filter_.model, filter_.parent = self.queryset.model, self
                self.filters[name] = filter_

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


class OpenOnFilter(django_filters.DateFilter):
    """Records open at the end of a day (company time): begun before it ended and not ended by then.

    The same test as a snapshot KPI's at a period's end: begun (`begins`) minus ended (`ends`) by that moment.
    """

    def __init__(self, *, begins: str, ends: str, **kwargs: Any) -> None:
        self.begins, self.ends = begins, ends
        super().__init__(**kwargs)

    def filter(self, qs: QuerySet, value: dt.date | None) -> QuerySet:
        if value is None:
            return qs
        return qs.filter(open_condition(open_moment(value), begins=self.begins, ends=self.ends))


def open_condition(moment: dt.datetime, *, begins: str, ends: str) -> Q:
    """Begun before `moment` and not ended by then."""
    return Q(**{f"{begins}__lt": moment}) & (Q(**{f"{ends}__isnull": True}) | Q(**{f"{ends}__gte": moment}))


def open_moment(day: dt.date) -> dt.datetime:
    """The end of `day` in the company's time zone, the moment a snapshot of that day is taken."""
    return local_midnight(day + dt.timedelta(days=1))
