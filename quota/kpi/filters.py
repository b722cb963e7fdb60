"""List filters that read records the way the KPI engine does, so the records behind a number add up to it.

    ?kpi=won_big_deals     the records a KPI's own filters keep (the engine's condition, walls included)
    ?open_on=2026-03-31    records open at the end of that day (a snapshot KPI's "from" and "until" fields)

A record list's FilterSet names its KPI source (`kpi_source = "deals"`); KpiConfig.ready() registers `kpi_filters`,
which adds `?kpi=` to it (the record domains sit below the KPI engine and cannot import it). `?open_on=` is core's
(core.filtersets.OpenOnFilter). The dashboards' "records behind" links use both.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from quota.kpi.definitions import Definition, Filter, Related
from quota.kpi.models import Metric
from quota.kpi.plans import plan
from quota.kpi.queries import records_condition


def listable_filters(definition: Definition) -> tuple[Filter, ...] | None:
    """The filters a list applies to show a KPI's records: those every part of the KPI shares; None when they differ.

    A count or a sum (also as a snapshot) is one set of filters; a ratio's two parts are not one list. A filter
    that reads "the next period" depends on the period, which a list does not have.
    """
    leaves = plan(definition).leaves
    filters = {leaf.filters for leaf in leaves}
    if len(filters) != 1:
        return None
    (shared,) = filters
    if any(isinstance(f.value, Related) and f.value.when == "next_period" for f in shared):
        return None
    return shared


class KpiField(forms.CharField):
    def __init__(self, *, source: str, **kwargs: Any) -> None:
        self.source = source
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Metric | None:
        key = super().clean(value)
        if not key:
            return None
        metric = Metric.objects.current().filter(key=key).first()
        if metric is None:
            raise forms.ValidationError(_("There is no KPI “%(kpi)s”.") % {"kpi": key})
        if metric.parsed.source != self.source or listable_filters(metric.parsed) is None:
            raise forms.ValidationError(_("This list cannot show the records of %(kpi)s.") % {"kpi": metric.display_name})
        return metric


class KpiFilter(django_filters.Filter):
    """The records a KPI's own conditions keep, read as the signed-in user (the same walls as the engine's)."""

    field_class = KpiField

    def __init__(self, *, source: str, **kwargs: Any) -> None:
        kwargs.setdefault("label", gettext_lazy("KPI"))
        super().__init__(source=source, **kwargs)

    def filter(self, qs: QuerySet, value: Metric | None) -> QuerySet:
        if value is None:
            return qs
        filters = listable_filters(value.parsed) or ()
        user = getattr(getattr(self.parent, "request", None), "user", None)
        definition = value.parsed
        return qs.filter(records_condition(definition.source, filters, user=user, date=definition.date))


def kpi_filters(filterset: type[Any]) -> dict[str, django_filters.Filter]:
    """`?kpi=<key>` for a record list that names its KPI source."""
    source = getattr(filterset, "kpi_source", None)
    return {"kpi": KpiFilter(source=source)} if source else {}
