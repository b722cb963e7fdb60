"""Refuse NUL characters in a request before any view reads it: one check for every page, list, export and API.

PostgreSQL cannot hold a NUL in text or JSON, so `?q=%00` used to reach the database and fail as a
500 (or cut off a streamed CSV after its 200). The address, every query parameter, every form
field (names and values; uploaded files' contents are the importer's business) and every JSON body
(a `\\u0000` escape) are checked here, and a request holding one gets a 400 that says where it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from quota.core.htmx import is_htmx
from quota.core.inputs import NUL, has_nul

# A JSON `\u0000` escape: preceded by an even number of backslashes (`\\u0000` is a backslash and "u0000").
JSON_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RejectNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        place = nul_place(request)
        if place is not None:
            return refusal(request, place)
        return self.get_response(request)


def nul_place(request: HttpRequest) -> str | None:
    """Where the request holds a NUL character, in words for the person who sent it; None if nowhere."""
    if NUL in request.path:
        return _("The address")
    found = _nul_field(request.GET)
    if found is not None:
        return _("The parameter “%(name)s”") % {"name": found}
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    content_type = request.content_type or ""
    try:
        if content_type in FORM_TYPES:
            # Django parses a form body for POST only; the API also takes one with PUT and PATCH.
            form = request.POST if request.method == "POST" or content_type != FORM_TYPES[0] else QueryDict(request.body)
            found = _nul_field(form)
            if found is not None:
                return _("The field “%(name)s”") % {"name": found}
        elif _is_json(content_type) and JSON_NUL_ESCAPE.search(request.body):
            return _("The JSON body")
    except (RequestDataTooBig, TooManyFieldsSent, MultiPartParserError, SuspiciousOperation):
        return None  # the view meets the same error and answers it as it always has
    return None


def _nul_field(data: QueryDict) -> str | None:
    for name, values in data.lists():
        if NUL in name or has_nul(values):
            return name.replace(NUL, "\\0")[:100]
    return None


def refusal(request: HttpRequest, place: str) -> HttpResponse:
    message = _("%(place)s contains a NUL character (\\0), which Quota does not accept. Remove it and try again.") % {
        "place": place
    }
    if _wants_json(request):
        return JsonResponse({"detail": message}, status=400)
    template = "core/_error.html" if is_htmx(request) else "core/400.html"
    return render(request, template, {"message": message}, status=400)


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


def _wants_json(request: HttpRequest) -> bool:
    if _is_json(request.content_type or ""):
        return True
    if request.path.startswith(_api_prefix()):
        return True
    accept = request.headers.get("Accept", "")
    return "json" in accept and "html" not in accept


def _api_prefix() -> str:
    try:
        return reverse("api-root")
    except NoReverseMatch:
        return "/api/"
