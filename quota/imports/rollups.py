"""KPI rollups after an import: marked stale, then rebuilt in the background, for the kinds of record it wrote.

An import writes in bulk (COPY, bulk_update), which sends no signals, so the rollups that keep
dashboards fast are not refreshed record by record: new rows only make them stale (the KPI engine
then reads the records, slowly), and updated rows would leave them wrong. After a committed import
the rollups of every source it wrote to are marked stale at once (the engine reads the records
until they are rebuilt: right, only slower) and rebuilt by a task: by a worker in production, so a
50-row import into a million deals does not wait the ~40 s a rebuild takes there; inline in the
embedded default. Rollups that were never built (nothing reads them) are left alone.
"""

from __future__ import annotations

from django.db import models

from quota.core.queue import enqueue
from quota.crm.models import Company, Deal
from quota.imports.report import Report
from quota.imports.targets import TARGETS, Outcome
from quota.kpi import rollups
from quota.kpi.models import RollupState
from quota.kpi.sources import get_source
from quota.kpi.tasks import rebuild_rollups


def written_models(report: Report) -> set[type[models.Model]]:
    written = {
        TARGETS[step.into].model
        for step in report.steps
        if step.into in TARGETS and (step.counts[Outcome.CREATED] or step.counts[Outcome.UPDATED])
    }
    if Deal in written:  # won deals give their companies a customer-since date (DealTarget.after_write)
        written.add(Company)
    return written


def rebuild_after_import(report: Report) -> list[str]:
    """Mark the built rollups of the sources the import wrote stale and queue their rebuild; the sources."""
    written = written_models(report)
    if not written:
        return []
    built = set(RollupState.objects.values_list("leaf", flat=True))
    sources = sorted(
        {leaf.source for leaf in rollups.rollup_leaves() if leaf.key in built and get_source(leaf.source).model in written}
    )
    if not sources:
        return []
    RollupState.objects.filter(source__in=sources).update(max_pk=-1)  # read the records until rebuilt
    enqueue(rebuild_rollups, sources)  # no broker: rebuilt here (and the scheduled rebuild catches any it missed)
    return sources
