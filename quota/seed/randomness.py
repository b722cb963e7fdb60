"""Independent, reproducible random streams: one per (seed, purpose, chunk), never global state.

Keying streams by purpose and chunk means a table can be regenerated chunk by chunk, in any
pass, and come out identical; and adding a new stream does not shift the others.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, purpose: str, chunk: int = 0) -> np.random.Generator:
    """The random generator for one purpose (and chunk of work) of the seed run `seed`."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(purpose.encode()), chunk]))


def weighted_index(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    """`size` indexes drawn with probability proportional to `weights`."""
    cumulative = np.cumsum(weights, dtype=np.float64)
    return np.searchsorted(cumulative, rng.random(size) * cumulative[-1], side="right").clip(0, len(weights) - 1)


def split_by_share(total: int, shares: dict[str, float]) -> dict[str, int]:
    """Split `total` into whole parts proportional to `shares` that add up exactly to `total`."""
    keys = list(shares)
    raw = np.array([shares[k] for k in keys], dtype=np.float64)
    exact = raw / raw.sum() * total
    parts = np.floor(exact).astype(np.int64)
    parts[np.argsort(parts - exact)[: total - int(parts.sum())]] += 1
    return dict(zip(keys, parts.tolist(), strict=True))
