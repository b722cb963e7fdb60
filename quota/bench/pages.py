"""Pages benchmark: the dashboards, the board, the deal list, a KPI page and global search, per seeded database.

    run(sizes=["demo", "large"]) -> {"pages": {"demo": {"director_dashboard": {"median_ms": .., "queries": ..},
                                                        "deal_list": {...}, ...}, "large": {...}}}

Each size's PostgreSQL database (`quota_bench_<size>`) becomes the default database for the run, since
the pages read it through the ORM's default connection; it is created, migrated and seeded when missing
or empty, its rollups rebuilt when stale and vacuumed after a bulk load (databases.prepare). Each page
is requested as the demo login whose page it is (the rep's own dashboard as `rep`, marketing's as
`marketing`, ...) through Django's test client (force_login), after two warm-up requests, so the
figures are a signed-in user's steady state: whole request, middleware to rendered HTML, without the
network. `median_ms` is computed each time (the KPI cache off: what a page costs after a write);
`cached_median_ms` the same page with the KPI cache on (quota.kpi.cache, as with Redis in production),
while nothing changes; `kept_median_ms` the page served whole from the page cache (quota.core.pagecache), as
production serves it again until something it read is written. A page the branch does not serve (404, such as
global search before it exists) is reported as not available instead of timed. The preparation's times are
reported apart. Goal at `large`: every page under 150 ms median.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import NoReverseMatch, reverse

from quota.bench.databases import measure_each


@dataclass(frozen=True)
class Page:
    url: str
    username: str  # the demo login whose page it is


PAGES = {
    "director_dashboard": Page("/", "director"),
    "rep_dashboard": Page("/dashboards/my/", "rep"),
    "marketing_dashboard": Page("/dashboards/marketing/", "marketing"),
    "service_dashboard": Page("/dashboards/service/", "service"),
    "pipeline_board": Page("/crm/board/", "director"),
    "deal_list": Page("/crm/deals/", "director"),
    "kpi_page": Page("/dashboards/kpi/won_revenue/?period=this_quarter", "director"),
    "search": Page("/search/?q={query}", "director"),  # the query: a word of a seeded company's name
}
GOAL_MS = 150
WARMUP = 2
REPEATS = 15
HOST = "localhost"  # in the default ALLOWED_HOSTS
# Static URLs without a collectstatic manifest: the pages' cost, not the deployment's, is measured.
PLAIN_STATIC = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


def run(*, sizes: list[str] | tuple[str, ...]) -> dict[str, Any]:
    with bench_settings():
        results = measure_each(sizes, measure)
    return {"pages": results}


def bench_settings() -> override_settings:
    # SECURE_SSL_REDIRECT off: the test client speaks plain HTTP, and a redirect is not the page.
    return override_settings(STORAGES=PLAIN_STATIC, SECURE_SSL_REDIRECT=False, **_urlconf())


def _urlconf() -> dict[str, str]:
    """The project's URLs with the dashboards' pages (which the dashboards link to) until `quota/urls.py` includes them."""
    try:
        reverse("dashboards:targets")
    except NoReverseMatch:
        return {"ROOT_URLCONF": "quota.dashboards.tests.urls"}
    return {}


def measure(repeats: int = REPEATS) -> dict[str, Any]:
    """Every page of PAGES on the default database, each as its own user: {name: {median_ms, queries, ...}, ...}."""
    from quota.crm.models import Company, Deal

    deals = Deal.objects.count()
    if not deals:
        return {"error": f"{connections['default'].settings_dict['NAME']} has no deals: seed it first"}
    if connections["default"].vendor == "postgresql":
        with connections["default"].cursor() as cursor:
            # Fresh planner statistics, as autovacuum keeps them in production (it may be off on a benchmark server,
            # and a rollup rebuild or a seed by COPY leaves them stale).
            cursor.execute("ANALYZE kpi_rollup")
    company = Company.objects.order_by("pk").values_list("name", flat=True).first() or ""
    query = (company.split() or ["a"])[0]
    out: dict[str, Any] = {}
    for name, page in PAGES.items():
        client = _client_for(page.username)
        url = page.url.format(query=query)
        out[name] = _page(client, url, repeats) if client else {"url": url, "error": f"no user {page.username!r}"}
    out.update(
        deals=deals,
        as_user=PAGES["director_dashboard"].username,
        measured_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    return out


def _client_for(username: str) -> Client | None:
    from quota.accounts.models import User

    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        return None
    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    return client


def _timed(client: Client, url: str, repeats: int) -> tuple[list[float], Any]:
    timings = []
    for _ in range(repeats):
        began = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - began) * 1000)
    return timings, response


def _page(client: Client, url: str, repeats: int) -> dict[str, Any]:
    for _ in range(WARMUP):
        response = client.get(url)
    if response.status_code == 404:
        return {"url": url, "status": 404, "available": False, "error": "not available (404): this branch does not serve it"}
    with override_settings(KPI_CACHE_SECONDS=0):
        timings, response = _timed(client, url, repeats)
        with CaptureQueriesContext(connections["default"]) as captured:
            client.get(url)
        # Counted now: the context reads the connection's log, which the next request empties.
        queries = len(captured.captured_queries)
    cache.clear()
    with override_settings(KPI_CACHE_SECONDS=300):
        client.get(url)  # kept
        cached, _response = _timed(client, url, repeats)
        with CaptureQueriesContext(connections["default"]) as captured:
            client.get(url)
        cached_queries = len(captured.captured_queries)
    cache.clear()
    with override_settings(KPI_CACHE_SECONDS=300, PAGE_CACHE_SECONDS=60):
        client.get(url)  # kept whole (quota.core.pagecache), as with Redis in production
        kept, _response = _timed(client, url, repeats)
    cache.clear()
    median = statistics.median(timings)
    return {
        "url": url,
        "status": response.status_code,
        "available": True,
        "median_ms": round(median, 1),
        "p90_ms": round(sorted(timings)[max(0, int(len(timings) * 0.9) - 1)], 1),
        "queries": queries,
        "cached_median_ms": round(statistics.median(cached), 1),
        "cached_queries": cached_queries,
        "kept_median_ms": round(statistics.median(kept), 1),
        "goal_ms": GOAL_MS,
        "within_goal": median < GOAL_MS,
    }
