"""Abuse protection for the public form endpoints: origins, a per-IP rate limit, size limits, the honeypot.

The endpoints take posts from other sites, so they cannot use Django's CSRF cookie; what they accept
is limited instead: only listed origins may embed or post, each address may submit a few times a
minute per form, bodies and fields are small, and a filled hidden field marks a bot.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from rest_framework.settings import api_settings

from quota.accounts import lockout
from quota.webforms.models import WebForm

# Bots fill in every field; people never see this one.
HONEYPOT_FIELD = "website"
DEFAULT_RATE = "20/min"
DEFAULT_MAX_BODY_BYTES = 32 * 1024
PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Refusal:
    status: int
    message: str
    retry_after: int | None = None


def client_ip(request: HttpRequest) -> str:
    """The sender's address, read as the login lockout reads it but behind WEBFORMS_PROXY_COUNT proxies."""
    return lockout.client_ip(request, proxies=int(getattr(settings, "WEBFORMS_PROXY_COUNT", 0))) or "unknown"


def submission_rate() -> tuple[int, int]:
    """(submissions, seconds) from the "webform" throttle rate in REST_FRAMEWORK, e.g. "20/min"."""
    rate = str(api_settings.DEFAULT_THROTTLE_RATES.get("webform") or DEFAULT_RATE)
    count, period = rate.split("/")
    return int(count), PERIOD_SECONDS[period.strip()[0]]


def _count_submission(webform: WebForm, ip: str) -> int | None:
    """Count one submission; return the seconds to wait when over the limit (a fixed window per form and address)."""
    limit, seconds = submission_rate()
    now = time.time()
    key = f"webforms:rate:{webform.pk}:{ip}:{int(now // seconds)}"
    cache.add(key, 0, timeout=seconds + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # the window expired between add and incr
        cache.set(key, 1, timeout=seconds + 1)
        count = 1
    if count is None:  # Redis is down (the cache ignores its errors): nothing counts, so nothing is refused
        return None
    return int(seconds - now % seconds) + 1 if count > limit else None


def max_body_bytes() -> int:
    return int(getattr(settings, "WEBFORMS_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))


def _origin_allowed(request: HttpRequest, webform: WebForm) -> bool:
    origin = request.headers.get("Origin")
    if not origin:
        return True  # servers (integrations) send none; browsers always send one with a POST
    if "*" in webform.allowed_origins:
        return True
    if urlsplit(origin).netloc == request.get_host():
        return True  # the form page itself (scheme ignored: a TLS-terminating proxy may hide it)
    return origin.lower().rstrip("/") in webform.allowed_origins


def check_submission(request: HttpRequest, webform: WebForm) -> Refusal | None:
    """Refuse a POST before its body is read: from a site not allowed, over the rate, or too large."""
    if not _origin_allowed(request, webform):
        return Refusal(403, _("This form does not accept submissions from this site."))
    wait = _count_submission(webform, client_ip(request))
    if wait is not None:
        return Refusal(429, _("Too many submissions from your address. Please wait a minute and try again."), retry_after=wait)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > max_body_bytes():
        return Refusal(413, _("The submission is too large. Please shorten your message."))
    return None


def honeypot_filled(data: Mapping[str, Any]) -> bool:
    return bool(str(data.get(HONEYPOT_FIELD) or "").strip())


def allow_framing(response: HttpResponse, webform: WebForm) -> HttpResponse:
    """Let the listed origins (and Quota itself) show this response in an <iframe>; nobody else."""
    origins = webform.allowed_origins
    ancestors = "*" if "*" in origins else " ".join(["'self'", *origins])
    response["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
    response.xframe_options_exempt = True
    return response


def allow_cross_origin(request: HttpRequest, response: HttpResponse, webform: WebForm) -> HttpResponse:
    """CORS for the JSON endpoint, so the listed sites may post to it from the browser."""
    origin = request.headers.get("Origin")
    patch_vary_headers(response, ["Origin"])
    if origin and (origin.lower().rstrip("/") in webform.allowed_origins or "*" in webform.allowed_origins):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type, Idempotency-Key"
        response["Access-Control-Expose-Headers"] = "Idempotent-Replayed, Retry-After"
        response["Access-Control-Max-Age"] = "600"
    return response
