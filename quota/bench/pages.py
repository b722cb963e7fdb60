"""Pages benchmark: the director's dashboard and the deal list, served by Django's test client per seeded database.

    run(sizes=["demo", "large"]) -> {"pages": {"demo": {"director_dashboard": {"median_ms": .., "queries": ..},
                                                        "deal_list": {...}, ...}, "large": {...}}}

Each size's PostgreSQL database (`quota_bench_<size>`) becomes the default database for the run, since
the pages read it through the ORM's default connection; it is created, migrated and seeded when missing
or empty, its rollups rebuilt when stale and vacuumed after a bulk load (databases.prepare). Requests
are made as the seeded `director` (force_login), after two warm-up requests, so the figures are a
signed-in user's steady state: whole request, middleware to rendered HTML, without the network. The
preparation's times are reported apart. Goals at `large`: dashboard < 300 ms, list < 150 ms.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from typing import Any

from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import NoReverseMatch, reverse

from quota.bench.databases import default_database, prepare

PAGES = {"director_dashboard": "/", "deal_list": "/crm/deals/"}
GOALS_MS = {"director_dashboard": 300, "deal_list": 150}
WARMUP = 2
REPEATS = 15
HOST = "localhost"  # in the default ALLOWED_HOSTS
# Static URLs without a collectstatic manifest: the pages' cost, not the deployment's, is measured.
PLAIN_STATIC = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


def run(*, sizes: list[str] | tuple[str, ...]) -> dict[str, Any]:
    results = {}
    # SECURE_SSL_REDIRECT off: the test client speaks plain HTTP, and a redirect is not the page.
    with override_settings(STORAGES=PLAIN_STATIC, SECURE_SSL_REDIRECT=False, **_urlconf()):
        for size in sizes:
            with default_database(size):
                prepared = prepare(size)
                results[size] = {**_measure(), **prepared}
    return {"pages": results}


def _urlconf() -> dict[str, str]:
    """The project's URLs with the dashboards' pages (which the dashboards link to) until `quota/urls.py` includes them."""
    try:
        reverse("dashboards:targets")
    except NoReverseMatch:
        return {"ROOT_URLCONF": "quota.dashboards.tests.urls"}
    return {}


def _measure() -> dict[str, Any]:
    from quota.accounts.models import Role, User
    from quota.crm.models import Deal

    deals = Deal.objects.count()
    if not deals:
        return {"error": f"{connections['default'].settings_dict['NAME']} has no deals: seed it first"}
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
