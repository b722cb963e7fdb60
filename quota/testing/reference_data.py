"""What the data migrations (and the KPI catalogue's post_migrate sync) put in a new database, made again.

A transactional test's flush, or a module that seeds its own company and flushes after, removes it; the tests
that run next on the same worker expect a freshly migrated database.
"""

from __future__ import annotations

from importlib import import_module


def restore_migrated_data() -> None:
    from django.apps import apps

    from quota.kpi.services import sync_catalogue

    import_module("quota.crm.migrations.0003_builtin_data").create(apps, None)
    import_module("quota.crm.migrations.0007_builtin_keys").set_keys(apps, None)
    import_module("quota.crm.migrations.0008_leadsource_direction").set_builtin_directions(apps, None)
    import_module("quota.crm.migrations.0013_company_lifecycle").add_churn_reasons(apps, None)
    sync_catalogue()
