"""Who is acting: the person an audit entry names for the changes made now.

A web request names its signed-in user (`quota.audit.middleware`, read when an entry is written, so
an API token's user counts too); a service run from the command line or a Celery task names its
`by` user with `acting_as(by)` or the `@acts_as_by` decorator. System work (an import without a
user, a scheduled task) names nobody.

The audit app stamps each entry with `current_actor()`. This module knows nothing of it: it is the
ground floor every service may use.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

# A callable rather than a user: a request's user is only known once the API has authenticated it.
_actor: ContextVar[Callable[[], Any] | None] = ContextVar("quota_actor", default=None)


def current_actor() -> Any:
    """The signed-in user acting now, or None (system work, an anonymous request)."""
    source = _actor.get()
    user = source() if source is not None else None
    if user is None or not getattr(user, "is_authenticated", False) or getattr(user, "pk", None) is None:
        return None
    return user


@contextmanager
def acting_from(source: Callable[[], Any]) -> Iterator[None]:
    """Changes made inside are by whoever `source()` returns when they are recorded."""
    token = _actor.set(source)
    try:
        yield
    finally:
        _actor.reset(token)


@contextmanager
def acting_as(user: Any) -> Iterator[None]:
    """Changes made inside are by `user`; with no user (system work) the one acting already stays."""
    if user is None or not getattr(user, "is_authenticated", False):
        yield
        return
    with acting_from(lambda: user):
        yield


def acts_as_by(service: Callable[P, R]) -> Callable[P, R]:
    """A service's changes are by its keyword argument `by` (for calls from the command line or Celery)."""

    @functools.wraps(service)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with acting_as(kwargs.get("by")):
            return service(*args, **kwargs)

    return wrapper
