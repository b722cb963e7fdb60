"""KPI pages: the glossary of every KPI's exact definition."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from quota.core.money import company_currency
from quota.kpi.definitions import UNIT_LABELS, Better
from quota.kpi.models import Metric


@dataclass(frozen=True)
class GlossaryEntry:
    key: str
    name: str
    definition: str
    unit: str
    better: str
    version: int
    builtin: bool


@login_required
def glossary(request: HttpRequest) -> HttpResponse:
    """Every current KPI with the paragraph that says exactly what it counts (built-in ones translated)."""
    entries = [
        GlossaryEntry(
            key=metric.key,
            name=metric.display_name,
            definition=metric.display_description,
            unit=str(UNIT_LABELS[metric.unit]),
            better=_("higher is better") if metric.better == Better.HIGHER else _("lower is better"),
            version=metric.version,
            builtin=metric.is_builtin,
        )
        for metric in Metric.objects.current()
    ]
    entries.sort(key=lambda e: (not e.builtin, e.name.casefold()))
    return render(request, "kpi/glossary.html", {"entries": entries, "currency": company_currency()})
