"""/crm/customers/: customers by lifecycle stage and the cohort retention table (repeat purchase), with its export."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from quota.core.exports import ExportColumn, Kind, UnknownFormat, export_response, table_of_rows
from quota.core.permissions import require
from quota.crm.choices import Lifecycle
from quota.crm.cohorts import CohortTable, cohort_retention, lifecycle_counts, month_index, month_of

DEFAULT_COHORTS = 12
MOST_COHORTS = 36  # a table wider than three years is no longer read


class CohortRangeForm(forms.Form):
    """The cohorts shown: from one month to another (YYYY-MM), the last twelve by default."""

    first = forms.DateField(label=gettext_lazy("First cohort"), required=False, input_formats=["%Y-%m"])
    last = forms.DateField(label=gettext_lazy("Last month"), required=False, input_formats=["%Y-%m"])

    def range(self) -> tuple[dt.date, dt.date]:
        today = timezone.localdate()
        last = (self.cleaned_data.get("last") or today).replace(day=1)
        first = self.cleaned_data.get("first") or month_of(month_index(last) - DEFAULT_COHORTS + 1)
        return first, last

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors:
            first, last = self.range()
            if first > last:
                raise forms.ValidationError(_("The first cohort comes after the last month."))
            if month_index(last) - month_index(first) >= MOST_COHORTS:
                raise forms.ValidationError(_("Show at most %(count)d months at a time.") % {"count": MOST_COHORTS})
        return data


def _table(request: HttpRequest) -> tuple[CohortRangeForm, CohortTable | None]:
    form = CohortRangeForm(request.GET)
    if not form.is_valid():
        return form, None
    first, last = form.range()
    return form, cohort_retention(request.user, first=first, last=last)


@login_required
def customers(request: HttpRequest) -> HttpResponse:
    form, table = _table(request)
    counts = lifecycle_counts(request.user)
    stages = [(label, counts[value]) for value, label in Lifecycle.choices]
    rows = []
    if table is not None:
        rows = [
            (date_format(row.month, "YEAR_MONTH_FORMAT"), row.size, [_percent(share) for share in row.shares])
            for row in table.rows
        ]
    context = {
        "form": form,
        "table": table,
        "rows": rows,
        "stages": stages,
        "definition": definition_text(),
        "query": request.GET.urlencode(),
    }
    return render(request, "crm/customers.html", context, status=200 if table is not None else 400)


@login_required
def customers_export(request: HttpRequest) -> HttpResponseBase:
    """The cohort table as CSV or XLSX (`format=`), for the page's months."""
    require(request.user, "records.export")
    form, table = _table(request)
    if table is None:
        return HttpResponseBadRequest(" ".join(str(e) for errors in form.errors.values() for e in errors))
    columns = [ExportColumn(_("First purchase"), Kind.DATE), ExportColumn(_("Customers"), Kind.INTEGER)]
    columns += [ExportColumn(_("Month %(number)s") % {"number": k}, Kind.PERCENT) for k in range(table.months)]
    rows = [[row.month, row.size, *row.shares] for row in table.rows]
    title = _("Cohort retention (repeat purchase)")
    period = f"{date_format(table.first, 'YEAR_MONTH_FORMAT')} - {date_format(table.last, 'YEAR_MONTH_FORMAT')}"
    export = table_of_rows(
        "cohort-retention", columns, rows, title=title, heading=[[title], [period]], footnote=definition_text()
    )
    try:
        return export_response(export, request.GET.get("format", "csv"))
    except UnknownFormat as exc:
        return HttpResponseBadRequest(str(exc))


def _percent(share: float | None) -> str:
    return "" if share is None else f"{number_format(share * 100, 0)} %"


def definition_text() -> str:
    return _(
        "Customers by the month of their first won deal; month k: the share of them with a won deal k months later "
        "(repeat purchase). Only the deals you may see count."
    )
