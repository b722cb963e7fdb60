"""How a webhook proves it comes from Quota.

Every POST carries these headers:

    X-Quota-Event:      the event name, e.g. ``deal.won``
    X-Quota-Delivery:   the delivery's id (a UUID); the body's ``id`` is the event's id, the same across redeliveries
    X-Quota-Timestamp:  Unix time in seconds when this attempt was signed
    X-Quota-Signature:  ``sha256=`` + hex HMAC-SHA256 of ``"<timestamp>.<body>"``, keyed with the subscription's secret

To verify, a receiver computes the HMAC over the X-Quota-Timestamp value, a dot and the raw request body bytes
(before any JSON parsing), compares it with the header in constant time, and rejects timestamps more than a
few minutes old so a captured request cannot be replayed later. Deliveries are "at least once": deduplicate
on the body's ``id``.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_PREFIX = "sha256="


def signature(*, secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def signed_headers(*, secret: str, event: str, delivery_id: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if now is None else now))
    return {
        "Content-Type": "application/json",
        "User-Agent": "Quota-Webhooks/1",
        "X-Quota-Event": event,
        "X-Quota-Delivery": delivery_id,
        "X-Quota-Timestamp": timestamp,
        "X-Quota-Signature": signature(secret=secret, timestamp=timestamp, body=body),
    }
