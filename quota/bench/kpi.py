"""The director's dashboard: how long its KPIs take, per seeded PostgreSQL database (`quota_bench_<size>`).

    run(sizes=["demo", "large"]) -> {"dashboard_kpis": {"demo": {"median_ms": .., "queries": ..}, "large": {...}}}

Each size's database must have been seeded (`DATABASE_URL=.../quota_bench_large quota seed --size large`);
it is migrated if needed. The dashboard is DASHBOARD_KPIS for the 13 months up to the end of the
seeded history, by person, as the director sees them. Rollups are rebuilt first when they are
missing or stale (a seed writes with COPY, behind the ORM's back); that time is reported apart.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import time
from typing import Any

import environ
from django.db import connections
from django.db.models import Max
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

DASHBOARD_KPIS = [
    "won_revenue",
    "won_deals",
    "win_rate",
    "avg_deal_value",
    "sales_cycle_days",
    "pipeline_value",
    "open_deals",
    "new_leads",
    "lead_conversion_rate",
    "calls_made",
    "meetings_held",
    "emails_sent",
    "offers_created",
    "sales_volume",
    "margin",
]
MONTHS = 13
WARMUP = 2
REPEATS = 15
SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def run(*, sizes: list[str] | tuple[str, ...]) -> dict[str, Any]:
    results = {}
    for size in sizes:
        alias = _connect(size)
        try:
            results[size] = _measure(alias)
        finally:
            connections[alias].close()
    return {"dashboard_kpis": results}


def _connect(size: str) -> str:
    """A connection alias for `quota_bench_<size>` on the server DATABASE_URL (or BENCH_DATABASE_URL) points at."""
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or SERVER_URL
    config = environ.Env.db_url_config(url)
    if "postgresql" not in config["ENGINE"]:
        config = environ.Env.db_url_config(SERVER_URL)
    alias = f"bench_{size}"
    config["NAME"] = f"quota_bench_{size}"
    connections.settings[alias] = connections.configure_settings({"default": connections.settings["default"], alias: config})[
        alias
    ]
    return alias


def _measure(alias: str) -> dict[str, Any]:
    from django.core.management import call_command

    from quota.accounts.models import Role, User
    from quota.activities.models import Activity
    from quota.crm.models import Deal
    from quota.kpi import rollups
    from quota.kpi.engine import evaluate
    from quota.kpi.periods import add_months, company_zone

    call_command("migrate", database=alias, interactive=False, verbosity=0)
    deals = Deal.objects.using(alias).count()
    if not deals:
        return {"error": f"{connections[alias].settings_dict['NAME']} has no deals: seed it first"}

    build_seconds = None
    if not rollups.all_fresh(alias):
        started = time.perf_counter()
        rollups.rebuild(using=alias)
        build_seconds = round(time.perf_counter() - started, 1)

    director = User.objects.using(alias).filter(role=Role.DIRECTOR, is_active=True).order_by("pk").first()
    last = Activity.objects.using(alias).filter(occurred_at__lte=timezone.now()).aggregate(last=Max("occurred_at"))["last"]
    end = timezone.localtime(last, company_zone()).date() if last else timezone.localdate()
    start = add_months(end.replace(day=1), -(MONTHS - 1))

    def dashboard(by: str = "person") -> Any:
        return evaluate(DASHBOARD_KPIS, user=director, start=start, end=end, every="month", by=by, using=alias)

    def timed(by: str) -> list[float]:
        for _ in range(WARMUP):
            dashboard(by)
        timings = []
        for _ in range(REPEATS):
            began = time.perf_counter()
            dashboard(by)
            timings.append((time.perf_counter() - began) * 1000)
        return timings

    timings = timed("person")
    # By team the answer has about as many values at every size: what is left is the cost of the stored rows.
    by_team = timed("team")
    with CaptureQueriesContext(connections[alias]) as queries:
        result = dashboard()
    with rollups.bypassed():
        began = time.perf_counter()
        dashboard()
        records_ms = (time.perf_counter() - began) * 1000
    return {
        "median_ms": round(statistics.median(timings), 1),
        "p90_ms": round(sorted(timings)[int(len(timings) * 0.9) - 1], 1),
        "queries": len(queries.captured_queries),
        "kpis": len(DASHBOARD_KPIS),
        "months": MONTHS,
        "people": len({p.group.id for r in result for p in r.points if p.group}),
        "values": sum(len(r.points) * 3 for r in result),  # each point: the period, the previous one, last year
        "by_team_median_ms": round(statistics.median(by_team), 1),
        "deals": deals,
        "range": f"{start.isoformat()}..{end.isoformat()}",
        "records_only_ms": round(records_ms, 1),  # the same dashboard reading the records (no rollups), once
        "rollup_build_s": build_seconds,
        "as": director.username if director else "system",
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
