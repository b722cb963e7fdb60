"""The forecast page: the period's revenue as ranges, by team or person, beside won-so-far and the targets."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from quota.core.permissions import require
from quota.dashboards.cards import company_today
from quota.dashboards.periods import period_from
from quota.forecasting.page import GROUPINGS, forecast_page
from quota.forecasting.ranges import METHOD


@login_required
def forecast(request: HttpRequest) -> HttpResponse:
    require(request.user, "forecast.view")
    now = timezone.now()
    period, period_form = period_from(request.GET, company_today(now))
    default_by = "team" if getattr(request.user, "role", "") in ("admin", "director") else "person"
    by = request.GET.get("by") or default_by
    bad_by = by not in GROUPINGS
    page = forecast_page(user=request.user, period=period, by=default_by if bad_by else by, now=now)
    context = {
        "page": page,
        "period": period,
        "period_form": period_form,
        "by": page.by,
        "groupings": [(key, _("By team") if key == "team" else _("By person")) for key in GROUPINGS],
        "by_error": _("Show the forecast by team or by person.") if bad_by else "",
        "method": METHOD,
        "page_url": reverse("forecasting:forecast"),
    }
    status = 400 if period_form.errors or bad_by else 200
    template = "forecasting/_forecast_body.html" if getattr(request, "htmx", False) else "forecasting/forecast.html"
    return render(request, template, context, status=status)
