"""The director's dashboard: how long its KPIs take, per seeded PostgreSQL database (`quota_bench_<size>`).

    run(sizes=["demo", "large"]) -> {"dashboard_kpis": {"demo": {"median_ms": .., "queries": ..}, "large": {...}}}

Each size's database is created, migrated and seeded when missing or empty, its rollups rebuilt when
stale and vacuumed after a bulk load (databases.prepare; those times are reported apart). The
dashboard is DASHBOARD_KPIS for the 13 months up to the end of the seeded history, by person, as
the director sees them. The same KPIs, months and grouping at every size: `values` says how many
numbers the answer holds (it grows with the people), `by_team_median_ms` times the same dashboard
by team, whose answer has about as many values at every size, and large's `vs_demo` divides its
figures by demo's. `by_custom_field_median_ms` times won revenue by the deals' custom `contract` over
the same months, read from the records (the goal: under 1 s at large).
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Max
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from quota.bench.databases import measure_each

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
REPEATS = 25  # the median of 25: steady enough on a shared 2-core machine


def run(*, sizes: list[str] | tuple[str, ...]) -> dict[str, Any]:
    results = measure_each(sizes, lambda: _measure(DEFAULT_DB_ALIAS))
    if {"demo", "large"} <= results.keys() and "median_ms" in results["demo"] and "median_ms" in results["large"]:
        results["large"]["vs_demo"] = _ratios(results["demo"], results["large"])
    return {"dashboard_kpis": results}


def _ratios(demo: dict[str, Any], large: dict[str, Any]) -> dict[str, float]:
    """Large over demo: the time by person, by team, and the values the answer holds (what the time follows)."""

    def ratio(key: str) -> float:
        return round(large[key] / demo[key], 1) if demo.get(key) else 0.0

    return {"median_ms": ratio("median_ms"), "by_team_median_ms": ratio("by_team_median_ms"), "values": ratio("values")}


# A KPI grouped by a custom field reads the records (no rollup holds custom fields): the seed's deal contract.
CUSTOM_KPI, CUSTOM_BY = "won_revenue", "custom.contract"


def _by_custom_field(alias: str, director: Any, start: dt.date, end: dt.date) -> dict[str, Any]:
    """The median time of CUSTOM_KPI by CUSTOM_BY over the dashboard's months, and the share of deals with a value."""
    from quota.crm.models import Deal
    from quota.kpi.engine import evaluate
    from quota.seed.custom import ensure_custom_fields

    ensure_custom_fields()  # a database seeded before the seed filled custom fields: groups are then all blank

    def once() -> Any:
        return evaluate([CUSTOM_KPI], user=director, start=start, end=end, every="month", by=CUSTOM_BY, using=alias)

    for _ in range(WARMUP):
        once()
    timings = []
    for _ in range(REPEATS // 5):
        began = time.perf_counter()
        result = once()
        timings.append((time.perf_counter() - began) * 1000)
    sample = Deal.objects.using(alias).order_by("-pk").values_list("custom", flat=True)[:1000]
    return {
        "by_custom_field_median_ms": round(statistics.median(timings), 1),
        "by_custom_field": f"{CUSTOM_KPI} by {CUSTOM_BY}",
        "by_custom_field_groups": len({p.group.label for p in result[CUSTOM_KPI].points if p.group}),
        "custom_filled_share": round(sum(1 for custom in sample if custom) / max(len(sample), 1), 2),
    }


def _measure(alias: str) -> dict[str, Any]:
    from quota.accounts.models import Role, User
    from quota.activities.models import Activity
    from quota.crm.models import Deal
    from quota.kpi import rollups
    from quota.kpi.engine import evaluate
    from quota.kpi.periods import add_months, company_zone

    deals = Deal.objects.using(alias).count()
    if not deals:
        return {"error": f"{connections[alias].settings_dict['NAME']} has no deals: seed it first"}

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
    by_custom = _by_custom_field(alias, director, start, end)
    return {
        **by_custom,
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
        "as": director.username if director else "system",
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
