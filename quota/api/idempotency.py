"""`Idempotency-Key` on the API's POSTs: a retried request is answered, not done again.

A client that sends `Idempotency-Key: <its own unique value>` with a POST (creating a record, or an
action such as winning a deal) may send the same request again - after a timeout, a dropped
connection, a 5xx from a proxy - and gets the first response (status and body, with the header
`Idempotent-Replayed: true`) without a second write. Keys are per user and endpoint (method and
path) and are kept for `API_IDEMPOTENCY_SECONDS` (24 h by default).

How it holds: the request runs in one transaction, and its key and response are stored in it, after
the view (only a 2xx response is remembered: an error wrote nothing, so the same key may be tried
again). So the write and the memory of it commit together or not at all. A twin request running at
the same moment waits on the key's unique index, then is rolled back and answered as the first was.
The same key with other data is refused (422): a key names one request. In the database, so it works
without Redis.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from quota.api.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")  # printable ASCII, no spaces: a UUID, a hash, an order number
DEFAULT_SECONDS = 24 * 3600


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _(
        "This Idempotency-Key was already used for a different request to this endpoint. Use a new key for a new request."
    )
    default_code = "idempotency_key_reused"


class _Replay(Exception):
    def __init__(self, record: IdempotencyKey) -> None:
        super().__init__(record.key)
        self.record = record


def keep_seconds() -> int:
    return int(getattr(settings, "API_IDEMPOTENCY_SECONDS", DEFAULT_SECONDS))


def fingerprint(data: Any) -> str:
    """SHA-256 of the request's data as parsed, so JSON key order or whitespace do not make two requests differ."""
    return hashlib.sha256(json.dumps(_canonical(data), sort_keys=True, default=str).encode()).hexdigest()


def _canonical(data: Any) -> Any:
    if isinstance(data, QueryDict):
        return {key: [_canonical(v) for v in data.getlist(key)] for key in data}
    if isinstance(data, dict):
        return {str(key): _canonical(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_canonical(value) for value in data]
    if hasattr(data, "read") and hasattr(data, "name"):  # an uploaded file
        return {"file": getattr(data, "name", ""), "size": getattr(data, "size", None)}
    return data


def earlier_response(*, user: Any, key: str, endpoint: str, digest: str, now: dt.datetime) -> IdempotencyKey | None:
    """The live record of this key, user and endpoint (KeyReused if it was for other data); forgets an expired one."""
    records = IdempotencyKey.objects.filter(user=user, key=key, endpoint=endpoint)
    records.filter(expires_at__lte=now).delete()
    earlier = records.first()
    if earlier is not None and earlier.fingerprint != digest:
        raise KeyReused()
    return earlier


def remember(*, user: Any, key: str, endpoint: str, digest: str, response: HttpResponse, now: dt.datetime) -> None:
    """Store the response with its key (in the request's transaction); IntegrityError if a twin request stored one first."""
    if isinstance(response, Response):
        response.render()
    with transaction.atomic():
        IdempotencyKey.objects.create(
            user=user,
            key=key,
            endpoint=endpoint,
            fingerprint=digest,
            status_code=response.status_code,
            content_type=response.get("Content-Type", ""),
            body=response.content.decode("utf-8", errors="replace"),
            created_at=now,
            expires_at=now + dt.timedelta(seconds=keep_seconds()),
        )


def replay(record: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(record.body, status=record.status_code, content_type=record.content_type or None)
    response[REPLAYED_HEADER] = "true"
    return response


def purge_expired(*, now: dt.datetime | None = None) -> int:
    """Forget keys past their time (periodic); how many."""
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted


class IdempotentPosts:
    """A viewset mixin: POSTs that carry an Idempotency-Key run once per user, key and endpoint (see the module)."""

    _idempotency: tuple[str, str, str] | None = None  # key, endpoint, fingerprint of a request to remember

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self._idempotency = None
        if request.method != "POST" or HEADER not in request.headers:
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        try:
            with transaction.atomic():
                response = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
                if self._idempotency is not None and status.is_success(response.status_code):
                    key, endpoint, digest = self._idempotency
                    remember(user=request.user, key=key, endpoint=endpoint, digest=digest, response=response, now=timezone.now())
        except IntegrityError:
            if self._idempotency is None:
                raise
            key, endpoint, digest = self._idempotency  # a twin request committed first: answer as it was answered
            twin = IdempotencyKey.objects.filter(user=request.user, key=key, endpoint=endpoint, fingerprint=digest).first()
            if twin is None:
                raise
            return replay(twin)
        return response

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]  # authenticated, allowed, not throttled
        if request.method != "POST" or HEADER not in request.headers:
            return
        key = request.headers[HEADER]
        if not KEY_PATTERN.fullmatch(key):
            raise exceptions.ValidationError(
                {HEADER: [_("Send 1 to 255 printable characters without spaces (a UUID is a good choice).")]}
            )
        endpoint = f"POST {request.path}"[:300]
        digest = fingerprint(request.data)
        earlier = earlier_response(user=request.user, key=key, endpoint=endpoint, digest=digest, now=timezone.now())
        if earlier is not None:
            raise _Replay(earlier)
        self._idempotency = (key, endpoint, digest)

    def handle_exception(self, exc: Exception) -> Any:  # a replay is a plain HttpResponse, not a DRF Response
        if isinstance(exc, _Replay):
            return replay(exc.record)
        return super().handle_exception(exc)  # type: ignore[misc]


class IdempotentSchema(AutoSchema):
    """Documents the Idempotency-Key header on every POST operation."""

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self.method == "POST":
            parameters.append(
                OpenApiParameter(
                    HEADER,
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    required=False,
                    description=(
                        "Your own unique value (e.g. a UUID; 1-255 printable characters) to make a retry safe: the same "
                        "key, user and endpoint within 24 hours (the server's API_IDEMPOTENCY_SECONDS) returns the first "
                        "response (status and body, with `Idempotent-Replayed: true`) and writes nothing again. The same "
                        "key with different data is refused with 422."
                    ),
                )
            )
        return parameters
