"""Pausing Python's cyclic garbage collector around work that makes many small objects and no cycles."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No collection inside the block: tens or hundreds of thousands of fetched rows, points or scores hold no
    cycles, and each collection their making triggers would go over every object alive, only to cost time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
