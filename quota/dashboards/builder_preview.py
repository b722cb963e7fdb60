"""The KPI builder's live preview: the definition as typed so far, evaluated for the last 13 months."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import QueryDict
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from quota.dashboards.cards import company_today
from quota.dashboards.charts import Series, category_chart
from quota.dashboards.selectors.kpi import TREND_MONTHS
from quota.kpi.formatting import as_text
from quota.kpi.forms import KpiBuilderForm
from quota.kpi.periods import Every, add_months, floor
from quota.kpi.sources import SOURCES, UnknownField

# What the preview needs no answer to yet: the name and the definition's text only matter when saving.
PLACEHOLDERS = {"name": "Preview", "description": "Preview"}


def preview_data(data: QueryDict) -> QueryDict:
    """The posted form with placeholders for the words not typed yet, so the numbers can be previewed first."""
    data = data.copy()
    for name, placeholder in PLACEHOLDERS.items():
        if not data.get(name, "").strip():
            data[name] = placeholder
    data["key"] = "preview"  # the key is checked when saving; a preview never needs one
    return data


def builder_preview_context(form: KpiBuilderForm, *, user: Any, now: dt.datetime) -> dict[str, Any]:
    source = form.data.get("source") or ""
    context: dict[str, Any] = {"form": form, "fields": _fields(source), "source": SOURCES.get(source)}
    form.is_valid()
    context["problems"] = [
        (form.fields[name].label if name in form.fields else "", message)
        for name, messages in form.errors.items()
        if name not in PLACEHOLDERS and name != "key"
        for message in messages
    ]
    if form.definition is None:
        return context
    end = company_today(now)
    start = add_months(floor(end, Every.MONTH), -(TREND_MONTHS - 1))
    result = form.preview(user=user, start=start, end=end, every="month")
    labels = [date_format(p.period, "YEAR_MONTH_FORMAT") for p in result.points if p.period]
    values = [p.value for p in result.points]
    context.update(
        result=result,
        rows=[(label, as_text(value, result.unit)) for label, value in zip(labels, values, strict=True)],
        chart=category_chart(
            labels,
            [
                Series(_("Preview"), values, result.unit, kind="line"),
                Series(_("A year earlier"), [p.last_year for p in result.points], result.unit, kind="line", role="previous"),
            ],
        ),
    )
    return context


def _fields(source: str) -> list[tuple[str, str, str]]:
    """The chosen source's fields (name, kind, label): what `field`, `date` and filters may name."""
    if source not in SOURCES:
        return []
    try:
        return [(info.path, info.kind.value, str(info.label)) for info in SOURCES[source].fields()]
    except UnknownField:
        return []
