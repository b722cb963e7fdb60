"""The forecast page: the period's revenue as ranges, by team or person, beside won-so-far and the targets."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from quota.core.htmx import is_htmx
from quota.core.permissions import require
from quota.dashboards.cards import company_today
from quota.dashboards.periods import period_from
from quota.forecasting.calls import ACCURACY_METHOD, forecast_call_make
from quota.forecasting.forms import CallForm
from quota.forecasting.models import CallMethod
from quota.forecasting.page import GROUPINGS, CallsScopeError, call_period_label, forecast_page
from quota.forecasting.ranges import METHOD
from quota.kpi.definitions import Unit
from quota.kpi.formatting import as_text


@login_required
def forecast(request: HttpRequest) -> HttpResponse:
    require(request.user, "forecast.view")
    now = timezone.now()
    period, period_form = period_from(request.GET, company_today(now))
    default_by = "team" if getattr(request.user, "role", "") in ("admin", "director") else "person"
    by = request.GET.get("by") or default_by
    bad_by = by not in GROUPINGS
    calls_error = ""
    try:
        page = forecast_page(
            user=request.user, period=period, by=default_by if bad_by else by, now=now, calls_scope=request.GET.get("calls")
        )
    except CallsScopeError as error:
        calls_error = str(error)
        page = forecast_page(user=request.user, period=period, by=default_by if bad_by else by, now=now)
    context = {
        "page": page,
        "period": period,
        "period_form": period_form,
        "by": page.by,
        "groupings": [(key, _("By team") if key == "team" else _("By person")) for key in GROUPINGS],
        "by_error": _("Show the forecast by team or by person.") if bad_by else "",
        "calls_error": calls_error,
        "method": METHOD,
        "accuracy_method": ACCURACY_METHOD,
        "page_url": reverse("forecasting:forecast"),
    }
    status = 400 if period_form.errors or bad_by or calls_error else 200
    template = "forecasting/_forecast_body.html" if is_htmx(request) else "forecasting/forecast.html"
    return render(request, template, context, status=status)


@login_required
@require_POST
def call(request: HttpRequest) -> HttpResponse:
    """Make a forecast call (a rep's commit, a manager's or director's call) and go back where the form was."""
    user = request.user
    require(user, "forecast.call")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("home")
    form = CallForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(back)
    person, team = form.cleaned_data["scope"]
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    try:
        made = forecast_call_make(by=user, start=start, end=end, amount=form.cleaned_data["amount"], user=person, team=team)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    facts = {"amount": as_text(float(made.amount), Unit.MONEY), "period": call_period_label(start, end)}
    if made.method == CallMethod.COMMIT:
        messages.success(request, _("Your commit of %(amount)s for %(period)s is saved.") % facts)
    else:
        facts["scope"] = made.scope_label
        messages.success(request, _("Your call of %(amount)s for %(scope)s, %(period)s, is saved.") % facts)
    return redirect(back)
