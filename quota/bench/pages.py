"""Pages benchmark: the director's dashboard and the deal list, served by Django's test client per seeded database.

    run(sizes=["demo", "large"]) -> {"pages": {"demo": {"director_dashboard": {"median_ms": .., "queries": ..},
                                                        "deal_list": {...}, ...}, "large": {...}}}

Each size's PostgreSQL database (`quota_bench_<size>`, seeded with `quota seed --size <size>`) becomes
the default database for the run, since the pages read it through the ORM's default connection; it
is migrated if needed. Requests are made as the seeded `director` (force_login), after two warm-up
requests, so the figures are a signed-in user's steady state: whole request, middleware to rendered
HTML, without the network. Rollups are rebuilt first when missing or stale (a seed writes with COPY,
behind the ORM's back); that time is reported apart. Goals at `large`: dashboard < 300 ms, list < 150 ms.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import environ
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import NoReverseMatch, reverse

PAGES = {"director_dashboard": "/", "deal_list": "/crm/deals/"}
GOALS_MS = {"director_dashboard": 300, "deal_list": 150}
WARMUP = 2
REPEATS = 15
SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres"
HOST = "localhost"  # in the default ALLOWED_HOSTS
# Static URLs without a collectstatic manifest: the pages' cost, not the deployment's, is measured.
PLAIN_STATIC = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


def run(*, sizes: list[str] | tuple[str, ...]) -> dict[str, Any]:
    results = {}
    with override_settings(STORAGES=PLAIN_STATIC, **_urlconf()):
        for size in sizes:
            with _default_database(size):
                results[size] = _measure()
    return {"pages": results}


def _urlconf() -> dict[str, str]:
    """The project's URLs with the dashboards' pages (which the dashboards link to) until `quota/urls.py` includes them."""
    try:
        reverse("dashboards:targets")
    except NoReverseMatch:
        return {"ROOT_URLCONF": "quota.dashboards.tests.urls"}
    return {}


@contextmanager
def _default_database(size: str) -> Iterator[None]:
    """Point the default connection at `quota_bench_<size>` (on the server DATABASE_URL names) while measuring."""
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or SERVER_URL
    config = environ.Env.db_url_config(url)
    if "postgresql" not in config["ENGINE"]:
        config = environ.Env.db_url_config(SERVER_URL)
    config["NAME"] = f"quota_bench_{size}"
    saved_settings, saved_connection = connections.settings["default"], connections["default"]
    connections.settings["default"] = connections.configure_settings({"default": config})["default"]
    connections["default"] = connections.create_connection("default")
    try:
        yield
    finally:
        connections["default"].close()
        connections.settings["default"] = saved_settings
        connections["default"] = saved_connection


def _measure() -> dict[str, Any]:
    from django.core.management import call_command

    from quota.accounts.models import Role, User
    from quota.crm.models import Deal
    from quota.kpi import rollups

    call_command("migrate", interactive=False, verbosity=0)
    deals = Deal.objects.count()
    if not deals:
        return {"error": f"{connections['default'].settings_dict['NAME']} has no deals: seed it first"}
    build_seconds = None
    candidates = rollups.rollup_leaves()
    if len(rollups.fresh_leaves(candidates, "default")) < len(candidates):
        started = time.perf_counter()
        rollups.rebuild()
        build_seconds = round(time.perf_counter() - started, 1)

    with connections["default"].cursor() as cursor:
        # Fresh planner statistics, as autovacuum keeps them in production (it may be off on a benchmark server,
        # and a rollup rebuild or a seed by COPY leaves them stale).
        cursor.execute("ANALYZE kpi_rollup")
    director = User.objects.filter(username="director").first() or User.objects.filter(role=Role.DIRECTOR, is_active=True).first()
    if director is None:
        return {"error": "no director to sign in as"}
    client = Client(HTTP_HOST=HOST)
    client.force_login(director)
    out: dict[str, Any] = {name: _page(client, url, GOALS_MS[name]) for name, url in PAGES.items()}
    out.update(
        deals=deals,
        rollup_build_s=build_seconds,
        as_user=director.username,
        measured_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    return out


def _page(client: Client, url: str, goal_ms: int) -> dict[str, Any]:
    for _ in range(WARMUP):
        client.get(url)
    timings = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - began) * 1000)
    with CaptureQueriesContext(connections["default"]) as queries:
        client.get(url)
    median = statistics.median(timings)
    return {
        "url": url,
        "status": response.status_code,
        "median_ms": round(median, 1),
        "p90_ms": round(sorted(timings)[int(len(timings) * 0.9) - 1], 1),
        "queries": len(queries.captured_queries),
        "goal_ms": goal_ms,
        "within_goal": median < goal_ms,
    }
