"""Seed benchmark: how fast `quota seed` fills PostgreSQL, per size, into `quota_bench_<size>` (flushed first).

The same databases the KPI and pages benchmarks read (see databases.py), so after it they measure the
freshly seeded company; they rebuild its rollups and vacuum it before measuring.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from django.core.management import call_command
from django.db import connection

from quota.bench.databases import default_database
from quota.kpi import rollups
from quota.seed.runner import seed_company


def run(*, sizes: Sequence[str] = ("large",)) -> dict[str, dict[str, float]]:
    """Seed each size into its benchmark database; {"seed_<size>": {rows, seconds, rows_per_s}}."""
    results = {}
    for size in sizes:
        with default_database(size):
            if connection.vendor != "postgresql":
                raise SystemExit("the seed benchmark runs on PostgreSQL: set DATABASE_URL=postgres://...")
            call_command("migrate", interactive=False, verbosity=0)
            rollups.drop()  # built from the records the flush deletes (as `quota seed --flush` does)
            report = seed_company(size=size, seed=1, flush=True, progress=sys.stderr.isatty())
        results[f"seed_{size}"] = {
            "rows": report.total,
            "seconds": round(report.seconds, 1),
            "rows_per_s": round(report.rows_per_second),
        }
    return results
