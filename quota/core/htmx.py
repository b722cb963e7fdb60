"""What an HTMX request asks for, read the same way everywhere (django-htmx sets `request.htmx`)."""

from __future__ import annotations

from django.http import HttpRequest


def is_htmx(request: HttpRequest) -> bool:
    """The page itself asked (a partial is wanted), not the browser loading a whole page."""
    return bool(getattr(request, "htmx", False))


def htmx_target(request: HttpRequest) -> str | None:
    """The id of the element an HTMX request will swap, or None for a whole page (or an HTMX request without target)."""
    details = getattr(request, "htmx", None)
    return details.target if details else None
