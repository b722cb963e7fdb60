"""The login lockout backend for tests: django-axes' own, except for calls without a request.

Every login through a page passes its request and is watched by django-axes as in production. Django's
test client `client.login(username=..., password=...)` and a bare `authenticate(username=..., password=...)`
pass none, which django-axes refuses with an error; here such calls are left to the next backend.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend


class RequestOptionalAxesBackend(AxesStandaloneBackend):
    def authenticate(self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
