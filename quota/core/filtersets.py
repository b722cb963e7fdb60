"""The base of every FilterSet (pages, exports and the API): human labels, and filters that cannot overflow.

Labels: django-filter names a generated filter after its lookup ("Closed is greater than or equal
to", "Source key"); here every filter without a label of its own is named after its field, with a
word for the bound it sets ("Closed from", "Closed before", "Amount at least", "Source"), translated
when shown. A yes/no filter offers "Any", not django-filter's "Unknown".

Bounds:
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
from django.core.exceptions import FieldDoesNotExist
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q, QuerySet
from django.utils.functional import lazy
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy
from django_filters.utils import verbose_field_name

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
        model = cls._meta.model
        for filter_ in filters.values():
            validators = filter_.extra.setdefault("validators", [])
            validators.extend(bound for bound in _bounds(filter_.field_class) if bound not in validators)
            if filter_._label is None and model is not None and _is_field(model, filter_.field_name):
                filter_.label = human_label(model, filter_.field_name, filter_.lookup_expr, filter_.field_class)
            if isinstance(filter_, django_filters.BooleanFilter):
                filter_.extra.setdefault("widget", AnyYesNoSelect)
        return filters


class AnyYesNoSelect(forms.NullBooleanSelect):
    """A yes/no filter: "Any" (no filter), "Yes" or "No"; it reads the same values as django-filter's."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.choices = [("", gettext_lazy("Any")), ("true", gettext_lazy("Yes")), ("false", gettext_lazy("No"))]


# What a lookup bounds, in words; a lookup not named here only matches, so the label is the field's name.
DATE_BOUNDS = {
    "gte": gettext_lazy("%(field)s from"),
    "gt": gettext_lazy("%(field)s after"),
    "lte": gettext_lazy("%(field)s until"),
    "lt": gettext_lazy("%(field)s before"),
}
NUMBER_BOUNDS = {
    "gte": gettext_lazy("%(field)s at least"),
    "gt": gettext_lazy("%(field)s more than"),
    "lte": gettext_lazy("%(field)s at most"),
    "lt": gettext_lazy("%(field)s less than"),
}


def _is_field(model: type[models.Model], field_name: str) -> bool:
    """Whether a filter reads a model field (a `method=` filter may not: it names its own label)."""
    try:
        model._meta.get_field(field_name.split("__")[0])
    except FieldDoesNotExist:
        return False
    return True


def human_label(model: type[models.Model], field_name: str, lookup_expr: str, field_class: type[forms.Field]) -> Any:
    """A filter's label in the language of the page showing it: "Closed from", "Source" (not "Source key")."""
    bounds = DATE_BOUNDS if issubclass(field_class, forms.DateField | forms.DateTimeField) else NUMBER_BOUNDS
    pattern = bounds.get(lookup_expr)
    # "source__key" filters by the source: a person calls it "Source", whichever of its fields the URL carries.
    field = field_name.split("__")[0]

    def label() -> str:
        name = str(verbose_field_name(model, field))
        return capfirst(str(pattern) % {"field": name} if pattern is not None else name)

    return lazy(label, str)()


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
