"""Seed benchmark: how fast `quota seed` fills PostgreSQL (flushing the database first)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from django.db import connection

from quota.seed import seed_company


def run(*, sizes: Sequence[str] = ("large",)) -> dict[str, dict[str, float]]:
    """Seed each size into the database DATABASE_URL names; {"seed_<size>": {rows, seconds, rows_per_s}}."""
    if connection.vendor != "postgresql":
        raise SystemExit("the seed benchmark runs on PostgreSQL: set DATABASE_URL=postgres://...")
    results = {}
    for size in sizes:
        report = seed_company(size=size, seed=1, flush=True, progress=sys.stderr.isatty())
        results[f"seed_{size}"] = {
            "rows": report.total,
            "seconds": round(report.seconds, 1),
            "rows_per_s": round(report.rows_per_second),
        }
    return results
