"""Whole pages kept while nothing they read has changed: a dashboard asked for again is served without rendering.

`@live_page` keeps a view's rendered page for its user and asks the shared cache, on the next request for the
same page, whether any table the page read has a new version since (core.dataversions: every committed write
gives one). Nothing is kept for long or for anyone else:

- the key is the page (path and query), the user and what shapes their walls (every table of accounts is a
  dependency, so a change of role, team or permission renews every page), the language, the time zone, the
  HTMX headers (a partial is another page) and a minute of its own: pages count ages and "due today" from now;
- only a signed-in GET with a 200 that sets no cookie of its own and has no message waiting is kept;
- the CSRF tokens in a kept page are put back as the requester's own when it is served.

Off without a cache every process shares (`PAGE_CACHE_SECONDS`, 0 without Redis), like the KPI cache.
"""

from __future__ import annotations

import hashlib
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, wraps
from typing import Any, TypeVar

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache as shared
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.csrf import get_token
from django.utils import timezone, translation

from quota.core import dataversions

PREFIX = "page:"
CSRF_MARK = "@@quota-csrf-token@@"
_MASKED_TOKEN = re.compile(r"\b[a-zA-Z0-9]{64}\b")
# Headers a view's response may carry from a kept page (others are the middleware's, added again on the way out).
_KEPT_HEADERS = ("Content-Type", "HX-Trigger", "HX-Push-Url", "HX-Retarget", "HX-Reswap", "Cache-Control")

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def seconds() -> int:
    return int(getattr(settings, "PAGE_CACHE_SECONDS", 0))


@dataclass
class KeptPage:
    versions: dict[str, str | None]
    content: bytes
    status: int
    headers: dict[str, str]


def live_page(view: View) -> View:
    """Serve the view's page from the cache while nothing it read has changed (a function view, or `as_view()`)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not _cacheable_request(request):
            return view(request, *args, **kwargs)
        key = _key(request)
        kept = _kept(key)
        if kept is not None:
            return _replay(request, kept)
        with dataversions.reading() as reads:
            reads.note(_walls())
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
        if _cacheable_response(request, response):
            assert isinstance(response, HttpResponse)
            _keep(key, request, response, reads.versions)
        return response

    return wrapped  # type: ignore[return-value]


def _cacheable_request(request: HttpRequest) -> bool:
    if seconds() <= 0 or request.method != "GET" or not request.user.is_authenticated:
        return False
    return not len(messages.get_messages(request))  # a waiting message is shown once: that page is not kept


def _cacheable_response(request: HttpRequest, response: HttpResponseBase) -> bool:
    return (
        isinstance(response, HttpResponse)
        and response.status_code == 200
        and not response.cookies
        and not len(messages.get_messages(request))
    )


def _key(request: HttpRequest) -> str:
    user: Any = request.user
    parts = [
        request.get_host(),
        request.path,
        sorted(request.GET.lists()),
        user.pk,
        user.get_session_auth_hash(),
        translation.get_language(),
        timezone.get_current_timezone_name(),
        sorted((name, value) for name, value in request.headers.items() if name.lower().startswith("hx-")),
    ]
    page = hashlib.sha256(repr(parts).encode()).digest()
    # A page is kept a minute at most; each page's minute starts at its own second, so that pages are not all
    # rendered again in the same instant (every dashboard at once, each on the hour's minutes).
    minute = (int(timezone.now().timestamp()) + page[0] % 60) // 60
    return f"{PREFIX}{page.hex()}:{minute}"


@cache
def _wall_tables() -> tuple[str, ...]:
    """The tables that decide whose records a user may see: users, teams, groups, permissions (and their links)."""
    tables = set()
    for label in ("accounts", "auth"):
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            tables.add(model._meta.db_table)
    return tuple(sorted(tables))


def _walls() -> list[str]:
    return [dataversions.table_key(table) for table in _wall_tables()]


def _kept(key: str) -> KeptPage | None:
    found = shared.get(key)
    if found is None:
        return None
    kept: KeptPage = pickle.loads(found)
    if dataversions.versions(list(kept.versions)) != kept.versions:
        return None
    dataversions.note_versions(kept.versions)  # an outer reader (a page around this one) depends on them too
    return kept


def _keep(key: str, request: HttpRequest, response: HttpResponse, versions: dict[str, str | None]) -> None:
    content = _without_csrf_tokens(request, response.content)
    headers = {name: response.headers[name] for name in _KEPT_HEADERS if name in response.headers}
    kept = KeptPage(versions, content, response.status_code, headers)
    shared.set(key, pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL), seconds())


def _without_csrf_tokens(request: HttpRequest, content: bytes) -> bytes:
    """The page with every CSRF token of this request's secret replaced by a mark (the next requester's goes there)."""
    from django.middleware.csrf import _unmask_cipher_token  # type: ignore[attr-defined]  # private, stable since 4.1

    secret = request.META.get("CSRF_COOKIE")
    if not secret:
        return content
    text = content.decode(errors="surrogateescape")
    tokens = {token for token in set(_MASKED_TOKEN.findall(text)) if _unmask_cipher_token(token) == secret}
    for token in tokens:
        text = text.replace(token, CSRF_MARK)
    return text.encode(errors="surrogateescape")


def _replay(request: HttpRequest, kept: KeptPage) -> HttpResponse:
    content = kept.content
    mark = CSRF_MARK.encode()
    if mark in content:
        content = content.replace(mark, get_token(request).encode())
    response = HttpResponse(content, status=kept.status)
    for name, value in kept.headers.items():
        response.headers[name] = value
    return response
