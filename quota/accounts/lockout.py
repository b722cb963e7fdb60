"""Login lockout (django-axes): who the client is, when a lockout ends, the page that says so, and unlocking.

django-axes counts failed logins per username and per client address in the database; after
AXES_FAILURE_LIMIT of them even the right password is refused until AXES_COOLOFF_TIME has passed since
the last failure. Tries during a lockout are not counted (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT
is off), so the end this page shows is the real one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from axes.helpers import get_client_parameters, get_client_username, get_cool_off
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


def client_ip(request: HttpRequest, *, proxies: int | None = None) -> str | None:
    """The client's address, None when unknown (a test client's login, a Unix socket).

    Behind N trusted proxies (`proxies`, by default TRUSTED_PROXY_COUNT) it is the Nth X-Forwarded-For entry
    from the right: the login lockout, and the web forms with their own count, read the address this one way.
    """
    if proxies is None:
        proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


def lockout_ends_at(request: HttpRequest, credentials: dict[str, Any] | None = None) -> dt.datetime | None:
    """When the lockout of this request's username or address ends: its last counted failure plus the cool-off."""
    cool_off = get_cool_off(request)
    if cool_off is None:
        return None
    parameters = get_client_parameters(
        get_client_username(request, credentials),
        getattr(request, "axes_ip_address", None) or client_ip(request),
        getattr(request, "axes_user_agent", ""),
        request,
        credentials,
    )
    matching = Q()
    for parameter in parameters:
        matching |= Q(**parameter)
    last_failure = (
        AccessAttempt.objects.filter(matching, attempt_time__gte=timezone.now() - cool_off)
        .aggregate(last=Max("attempt_time"))
        .get("last")
    )
    return last_failure + cool_off if last_failure else timezone.now() + cool_off


def lockout_response(request: HttpRequest, original_response: HttpResponse | None, credentials: dict[str, Any] | None):
    """The page shown instead of a login while locked out (429): what happened, until when, and who can help."""
    return render(
        request,
        "registration/locked_out.html",
        {"locked_until": lockout_ends_at(request, credentials), "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=getattr(settings, "AXES_HTTP_RESPONSE_CODE", 429),
    )


def unlock(*, username: str | None = None, ip_address: str | None = None) -> int:
    """Forget the failed logins of a username and/or an address, which ends their lockout; the number forgotten."""
    if not username and not ip_address:
        raise ValueError("unlock needs a username or an address")
    return reset(username=username, ip=ip_address)
