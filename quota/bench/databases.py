"""The benchmark databases: `quota_bench_<size>` (demo, large) on the PostgreSQL server DATABASE_URL names.

    with default_database("large"):
        report = prepare("large")   # created, migrated, seeded, rollups built and vacuumed when needed

    measure_each(["demo", "large"], measure)  # the same for each size, then {size: {**measure(), **report}}

Every benchmark that reads a seeded company goes through here, so `make bench` on a fresh machine
creates and seeds what it reads, and the seed, KPI and pages benchmarks agree on the names.
BENCH_DATABASE_URL, if set, names the server instead (its database name is not used).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import environ
from django.db import DEFAULT_DB_ALIAS, connections

from quota.settings.postgresql import connection_options

SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PREFIX = "quota_bench_"


def name_for(size: str) -> str:
    return f"{PREFIX}{size}"


def settings_for(size: str) -> dict[str, Any]:
    """Connection settings for the size's database on the server BENCH_DATABASE_URL or DATABASE_URL points at."""
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or SERVER_URL
    config = environ.Env.db_url_config(url)
    if "postgresql" not in config["ENGINE"]:
        config = environ.Env.db_url_config(SERVER_URL)
    config["NAME"] = name_for(size)
    # With the project's options, as the pages are served (no parallel workers per query).
    options = config.setdefault("OPTIONS", {})
    options["options"] = connection_options(options.get("options", ""))
    return config


def create_if_missing(config: dict[str, Any]) -> bool:
    """CREATE DATABASE for PostgreSQL settings whose database does not exist yet; whether it was created."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    if "postgresql" not in config["ENGINE"]:
        return False
    given = {key.lower(): config.get(key) for key in ("HOST", "PORT", "USER", "PASSWORD")}
    conninfo = make_conninfo(dbname="postgres", **{key: str(value) for key, value in given.items() if value})
    with psycopg.connect(conninfo, autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone() is not None:
            return False
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
    print(f"created database {config['NAME']}", file=sys.stderr)
    return True


@contextmanager
def default_database(size: str) -> Iterator[None]:
    """Point the default connection at the size's database (created if missing) while inside.

    The default one, because pages, the seed and the engine's callers all read through it.
    """
    config = settings_for(size)
    create_if_missing(config)
    saved_settings, saved_connection = connections.settings[DEFAULT_DB_ALIAS], connections[DEFAULT_DB_ALIAS]
    connections.settings[DEFAULT_DB_ALIAS] = connections.configure_settings({DEFAULT_DB_ALIAS: config})[DEFAULT_DB_ALIAS]
    connections[DEFAULT_DB_ALIAS] = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        yield
    finally:
        connections[DEFAULT_DB_ALIAS].close()
        connections.settings[DEFAULT_DB_ALIAS] = saved_settings
        connections[DEFAULT_DB_ALIAS] = saved_connection


def prepare(size: str) -> dict[str, Any]:
    """Make the default database ready to measure: migrated, seeded with `size` if empty, rollups fresh, vacuumed.

    Returns what it did and how long each step took (None: not needed), so figures are not mistaken for them.
    """
    from django.core.management import call_command

    from quota.crm.models import Deal
    from quota.kpi import rollups

    call_command("migrate", interactive=False, verbosity=0)
    done: dict[str, Any] = {"seed_s": None, "rollup_build_s": None, "vacuum_s": None}
    if not Deal.objects.exists():
        print(f"seeding {name_for(size)} with the {size} company ...", file=sys.stderr)
        started = time.perf_counter()
        # The command, as `make demo` seeds: demo logins, reports and rollups come with it. Its summary is not our output.
        call_command("seed", size=size, if_empty=True, no_progress=True, stdout=sys.stderr)
        done["seed_s"] = round(time.perf_counter() - started, 1)
    leaves = rollups.rollup_leaves()
    fresh = rollups.fresh_leaves(leaves, DEFAULT_DB_ALIAS)
    if unfresh := [leaf for leaf in leaves if leaf.key not in fresh]:
        started = time.perf_counter()
        # A seed by COPY (the seed benchmark's) writes behind the ORM's back; a new kind of rollup was never built.
        rollups.rebuild(leaves=unfresh)
        done["rollup_build_s"] = round(time.perf_counter() - started, 1)
    if _needs_vacuum():
        started = time.perf_counter()
        _vacuum()
        done["vacuum_s"] = round(time.perf_counter() - started, 1)
    return done


def measure_each(sizes: Iterable[str], measure: Callable[[], dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each size's figures: `measure()` on its prepared database, with what preparing it did (`prepare`)."""
    results: dict[str, dict[str, Any]] = {}
    for size in sizes:
        with default_database(size):
            prepared = prepare(size)
            results[size] = {**measure(), **prepared}
    return results


def _needs_vacuum() -> bool:
    """Whether bulk-loaded tables lack statistics or a visibility map (COPY sets neither; autovacuum would, in time).

    Without the visibility map PostgreSQL cannot answer from an index alone (index-only scans read the table
    too), so a freshly seeded database would measure a state production leaves after its first autovacuum.
    """
    from quota.crm.models import Deal

    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpages, relallvisible FROM pg_class WHERE oid = %s::regclass", [Deal._meta.db_table])
        row = cursor.fetchone()
    pages, visible = row if row else (0, 0)
    return pages <= 0 or visible < pages * 0.9


def _vacuum() -> None:
    connection = connections[DEFAULT_DB_ALIAS]
    connection.ensure_connection()
    with connection.cursor() as cursor:  # autocommit: VACUUM cannot run in a transaction
        cursor.execute("VACUUM (ANALYZE)")
