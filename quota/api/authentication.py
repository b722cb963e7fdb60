"""Token authentication that stops answering an address after too many bad tokens.

DRF runs its throttles after authentication, so a wrong token would be answered 401 forever, as fast
as it is sent. Here each failed token check counts against the sender's address with DRF's own throttle
machinery (the "api_token_failure" rate in DEFAULT_THROTTLE_RATES, its cache, NUM_PROXIES); an address
over the rate is answered 429 with Retry-After, before its token is looked at, until the window passes.
Requests without a token, and good tokens from other addresses, are not affected.
"""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

DEFAULT_RATE = "10/min"


class TokenFailureThrottle(SimpleRateThrottle):
    """Failed token checks per client address (a sliding window, as DRF's other throttles)."""

    scope = "api_token_failure"
    duration: int  # set from the rate by SimpleRateThrottle.__init__
    num_requests: int | None

    def get_rate(self) -> str:
        # Read at use, not at import as SimpleRateThrottle does, so a changed setting applies.
        return str(api_settings.DEFAULT_THROTTLE_RATES.get(self.scope) or DEFAULT_RATE)

    def get_cache_key(self, request: Any, view: Any = None) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def seconds_blocked(self, request: Request) -> float | None:
        """Seconds until the address may try again when it is over the rate; None when it may try now."""
        self.key = self.get_cache_key(request)
        self.now = self.timer()
        self.history = [moment for moment in self.cache.get(self.key, []) if moment > self.now - self.duration]
        if self.num_requests is not None and len(self.history) >= self.num_requests:
            return self.wait()
        return None

    def record_failure(self) -> None:
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)


class ThrottledTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, with bad tokens throttled per address (see the module)."""

    def authenticate(self, request: Request) -> Any:
        words = get_authorization_header(request).split()
        if not words or words[0].lower() != self.keyword.lower().encode():
            return None  # no token: another authentication (the session) or none
        throttle = TokenFailureThrottle()
        wait = throttle.seconds_blocked(request)
        if wait is not None:
            raise Throttled(wait=wait)
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            throttle.record_failure()
            raise
