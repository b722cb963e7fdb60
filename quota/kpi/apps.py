from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


class KpiConfig(AppConfig):
    name = "quota.kpi"
    label = "kpi"
    verbose_name = "KPIs"

    def ready(self) -> None:
        from quota.core import health
        from quota.core.filtersets import register_filter_provider
        from quota.kpi import rollups
        from quota.kpi.expressions import register_sqlite_functions
        from quota.kpi.filters import kpi_filters
        from quota.kpi.health import rollup_freshness

        connection_created.connect(register_sqlite_functions, dispatch_uid="kpi-sqlite-functions")
        post_migrate.connect(_sync_catalogue, sender=self)
        rollups.connect()
        health.register("rollups", rollup_freshness)
        register_filter_provider(kpi_filters)  # ?kpi=<key> on the record lists (the records behind a number)


def _sync_catalogue(sender: AppConfig, using: str, **kwargs: Any) -> None:
    """New installs and upgrades get the built-in KPIs (and new versions of changed ones) with `migrate`."""
    from django.db import connections

    from quota.kpi.models import Metric
    from quota.kpi.services import sync_catalogue

    if Metric._meta.db_table in connections[using].introspection.table_names():
        sync_catalogue(using=using)
