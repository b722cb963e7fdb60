"""The options of every PostgreSQL connection Quota makes: the settings' and those the benchmarks make apart."""

from __future__ import annotations

import os


def connection_options(given: str = "") -> str:
    """libpq `options` (server settings for the session), after any `given` in the database URL.

    No parallel workers for one query (PG_PARALLEL_WORKERS, default 0). A page's queries read tens of thousands of
    rows at most; starting workers for them cost more than it saved (the director's dashboard at the `large` size:
    165 ms with PostgreSQL's default of 2, 146 ms without), and under load every core already serves a request.
    """
    given_workers = os.environ.get("PG_PARALLEL_WORKERS", "0")
    if not given_workers.strip().isdigit():
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"PG_PARALLEL_WORKERS must be a whole number, 0 or more (0: none), not {given_workers!r}.")
    workers = int(given_workers)
    return f"{given} -c max_parallel_workers_per_gather={workers}".strip()
