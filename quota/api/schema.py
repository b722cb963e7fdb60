"""The OpenAPI schema describes the versioned API: `/api/v1/...` (the same routes also answer under `/api/`)."""

from __future__ import annotations

from typing import Any

VERSION_PREFIX = "/api/v1/"


def versioned_only(endpoints: list[tuple[Any, ...]], **kwargs: Any) -> list[tuple[Any, ...]]:
    """drf-spectacular preprocessing hook: each operation once, under its versioned path."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith(VERSION_PREFIX)]
