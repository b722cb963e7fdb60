"""Rollup freshness for /healthz (registered from KpiConfig.ready()).

Stale rollups are not wrong numbers: the engine then reads the records, slower. So stale ones make
the service "degraded" until the periodic rebuild (`rebuild_stale_rollups`) catches up.
"""

from __future__ import annotations

from typing import Any

from quota.kpi import rollups
from quota.kpi.models import RollupState


def rollup_freshness() -> dict[str, Any]:
    built = set(RollupState.objects.values_list("leaf", flat=True))
    if not built:
        return {"status": "ok", "built": 0, "note": "no rollups built: KPIs read the records"}
    stale = rollups.stale_leaves()
    answer: dict[str, Any] = {"built": len(built), "stale": len(stale)}
    if stale:
        sources = sorted({leaf.source for leaf in stale})
        return {"status": "degraded", **answer, "stale_sources": sources, "effect": "KPIs read the records until rebuilt"}
    return {"status": "ok", **answer}
