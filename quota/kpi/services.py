"""Write paths for KPI definitions: loading the built-in catalogue and saving new versions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auditlog.context import disable_auditlog
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Max

from quota.core.actor import acts_as_by
from quota.kpi import definitions
from quota.kpi.catalogue import CATALOGUE
from quota.kpi.models import Metric


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    new_versions: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)


def sync_catalogue(*, using: str = DEFAULT_DB_ALIAS) -> SyncReport:
    """Make the built-in KPIs in the database match the catalogue (idempotent; runs after every migrate).

    Not in the audit trail: built-in definitions come with the code (its history is theirs), and every
    install would otherwise start its trail with the whole catalogue.
    """
    report = SyncReport()
    with transaction.atomic(using=using), disable_auditlog():
        current = {m.key: m for m in Metric.objects.using(using).filter(is_builtin=True, is_current=True)}
        for entry in CATALOGUE:
            parsed = definitions.parse(entry.definition)
            metric = current.get(entry.key)
            if metric is None:
                metric_save_version(
                    key=entry.key, name=entry.name, description=entry.description, definition=parsed, builtin=True, using=using
                )
                report.created.append(entry.key)
            elif definitions.canonical_json(metric.definition) != parsed.canonical():
                metric_save_version(
                    key=entry.key, name=entry.name, description=entry.description, definition=parsed, builtin=True, using=using
                )
                report.new_versions.append(entry.key)
            elif (metric.name, metric.description) != (entry.name, entry.description):
                # Words only: the numbers do not change, so the version does not either.
                metric.name, metric.description = entry.name, entry.description
                metric.save(update_fields=["name", "description"], using=using)
                report.renamed.append(entry.key)
    return report


@acts_as_by
@transaction.atomic
def metric_save_version(
    *,
    key: str,
    name: str,
    description: str,
    definition: definitions.Definition,
    builtin: bool = False,
    by: Any = None,
    using: str = DEFAULT_DB_ALIAS,
) -> Metric:
    """Save `definition` as the next version of `key` (the first if new); the previous version stays, not current."""
    metrics = Metric.objects.using(using)
    latest = metrics.filter(key=key).aggregate(latest=Max("version"))["latest"] or 0
    for previous in metrics.filter(key=key, is_current=True):  # one row; saved, so the audit trail has it
        previous.is_current = False
        previous.save(update_fields=["is_current"], using=using)
    metric = Metric(
        key=key,
        version=latest + 1,
        name=name,
        description=description,
        definition=dict(definition.data),
        is_builtin=builtin,
        is_current=True,
        created_by=by,
    )
    metric.full_clean(validate_unique=False, validate_constraints=False)  # the database checks both, on `using`
    metric.save(using=using)
    return metric


@acts_as_by
@transaction.atomic
def metric_retire(*, key: str, by: Any = None) -> None:
    """No version of `key` is current any more (each saved, so the audit trail has it); the versions stay."""
    for metric in Metric.objects.filter(key=key, is_current=True):
        metric.is_current = False
        metric.save(update_fields=["is_current"])
