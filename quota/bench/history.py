"""The pipeline's history read back: how long the quarter's waterfall and the pipeline as it stood take.

    run(sizes=["large"]) -> {"history": {"large": {"waterfall_person_median_ms": .., ...}}}

On each size's seeded PostgreSQL database (`quota_bench_<size>`, prepared as the other benchmarks prepare it):
the waterfall of the last complete quarter of the seeded history, from its first day to its last, by person
(the goal: under a second at `large`), by team and for the company, as the director sees it; and the open
pipeline as it stood in the middle of that quarter, by stage, and expected in the quarter, by person.
`steps` counts the company waterfall's states and steps (what its time follows). And the forecast's ranges
(forecasting.ranges: P10/P50/P90 and the chance of reaching a target) of the month and quarter under way, in all
and by person, as the forecast page computes them (the slip of the period before included, not cached).
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Max

from quota.bench.databases import measure_each

WARMUP = 1
REPEATS = 7


def run(*, sizes: list[str] | tuple[str, ...]) -> dict[str, Any]:
    results = measure_each(sizes, lambda: measure(DEFAULT_DB_ALIAS))
    return {"history": results}


def measure(alias: str) -> dict[str, Any]:
    """The timings on the database `alias` as it is (nothing is migrated, seeded or changed)."""
    from quota.accounts.models import Role, User
    from quota.core.calendar import local_midnight
    from quota.crm.history_selectors import open_states_at, pipeline_as_of
    from quota.crm.models import DealState
    from quota.forecasting.history import waterfall
    from quota.kpi.periods import add_months

    latest = DealState.objects.using(alias).aggregate(latest=Max("valid_from"))["latest"]
    director = User.objects.using(alias).filter(role=Role.DIRECTOR, is_active=True).first()
    if latest is None or director is None:
        return {"error": "the database has no deal history or no director: seed it first"}
    this_quarter = dt.date(latest.year, (latest.month - 1) // 3 * 3 + 1, 1)
    first = add_months(this_quarter, -3)
    last = this_quarter - dt.timedelta(days=1)
    start_at, end_at = local_midnight(first), local_midnight(last + dt.timedelta(days=1))
    middle = local_midnight(first + (last - first) / 2)

    def timed(call: Callable[[], Any]) -> float:
        for _ in range(WARMUP):
            call()
        times = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
        return round(statistics.median(times) * 1000, 1)

    def quarter_waterfall(by: str) -> Callable[[], Any]:
        return lambda: waterfall(
            user=director, start_at=start_at, end_at=end_at, period_start=first, period_end=last, by=by, using=alias
        )

    result = waterfall(
        user=director, start_at=start_at, end_at=end_at, period_start=first, period_end=last, by="person", using=alias
    )
    return {
        "quarter": f"{first.isoformat()}..{last.isoformat()}",
        "people": len(result.rows),
        "steps": sum(result.total.deals.values()),
        "adds_up": all(r.start + sum(r.flows.values()) == r.end for r in [*result.rows, result.total]),
        "waterfall_person_median_ms": timed(quarter_waterfall("person")),
        "waterfall_team_median_ms": timed(quarter_waterfall("team")),
        "waterfall_company_median_ms": timed(quarter_waterfall("none")),
        "pipeline_as_of_by_stage_median_ms": timed(lambda: pipeline_as_of(middle, user=director, by="stage")),
        "pipeline_as_of_quarter_by_person_median_ms": timed(
            lambda: pipeline_as_of(middle, user=director, by="person", close_from=first, close_to=last)
        ),
        "open_deals_then": open_states_at(middle, user=director).using(alias).count(),
        **ranges_timings(alias, director, latest.date(), timed),
    }


def ranges_timings(alias: str, director: Any, today: dt.date, timed: Callable[[Callable[[], Any]], float]) -> dict[str, Any]:
    from django.test import override_settings

    from quota.forecasting.ranges import forecast_ranges
    from quota.kpi.periods import Every, floor, shift

    out: dict[str, Any] = {}
    with override_settings(FORECAST_SLIP_SECONDS=0):
        for every in (Every.MONTH, Every.QUARTER):
            start = floor(today, every)
            end = shift(start, every, 1) - dt.timedelta(days=1)
            for by in ("none", "person"):
                call = lambda by=by, start=start, end=end: forecast_ranges(  # noqa: E731
                    user=director, start=start, end=end, by=by, using=alias
                )
                out[f"ranges_{every.value}_{by}_median_ms"] = timed(call)
    return out
