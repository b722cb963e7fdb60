"""Celery tasks of the KPI engine: they call the rollup functions and nothing else."""

from __future__ import annotations

from celery import shared_task

from quota.kpi import rollups
from quota.kpi.models import RollupState


@shared_task(ignore_result=True)
def rebuild_rollups(sources: list[str]) -> None:
    """Rebuild the rollups already built for `sources` (after a bulk write marked them stale)."""
    built = set(RollupState.objects.filter(source__in=sources).values_list("leaf", flat=True))
    leaves = [leaf for leaf in rollups.rollup_leaves() if leaf.key in built]
    if leaves:
        rollups.rebuild(leaves=leaves)


@shared_task(ignore_result=True)
def rebuild_stale_rollups() -> int:
    """Rebuild the rollups that went stale (a refresh that failed after a commit, a bulk load); periodic. Leaves rebuilt."""
    return len(rollups.rebuild_stale())
