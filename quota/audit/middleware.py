"""auditlog's middleware, with the actor read when an entry is written rather than when the request starts.

The API authenticates a token inside the view, after every middleware has run: the user a request
acts as is only known then (DRF puts it on the request), so entries read `request.user` late.
"""

from __future__ import annotations

from typing import Any

from auditlog.middleware import AuditlogMiddleware
from django.http import HttpRequest, HttpResponse

from quota.core.actor import acting_from


class AuditActorMiddleware(AuditlogMiddleware):
    @staticmethod
    def _get_actor(request: HttpRequest) -> Any:
        return None  # stamped from quota.core.actor (see quota.audit.services.complete_entry)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with acting_from(lambda: getattr(request, "user", None)):
            return super().__call__(request)
