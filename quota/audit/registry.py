"""What the audit trail records: which kinds of record, and which of their fields.

django-auditlog writes one `LogEntry` per create, change or delete of a registered record, with the
changed fields as JSON `{field: [old, new]}` (only the fields named here), when and by whom. Other
fields of these records (a deal's title, a company's address) change without an entry.
"""

from __future__ import annotations

from auditlog.registry import auditlog
from django.apps import apps
from django.db import models

AUDITED: dict[str, tuple[str, ...]] = {
    "crm.Deal": ("amount", "currency", "owner", "stage", "status", "expected_close_date"),
    "crm.Company": ("owner",),
    "crm.Contact": ("owner",),
    "kpi.Target": ("metric", "user", "team", "period", "start", "end", "value", "team_target"),
    "accounts.User": ("role", "team", "is_active", "is_staff", "is_superuser"),
    "crm.CustomField": ("target", "key", "label", "field_type", "choices", "required", "position"),
    "kpi.Metric": ("key", "version", "name", "description", "definition", "is_current"),
    # An import's summary: who imported how many records, when (its new rows get no entry each).
    "imports.ImportRun": ("title", "status", "created", "updated", "rejected"),
}


def register_audited_models() -> None:
    for label, fields in AUDITED.items():
        auditlog.register(apps.get_model(label), include_fields=list(fields))


def audited_models() -> list[type[models.Model]]:
    return [apps.get_model(label) for label in AUDITED]


def audited_fields(model: type[models.Model]) -> tuple[str, ...]:
    return AUDITED.get(model._meta.label, ())


def is_audited(model: type[models.Model]) -> bool:
    return model._meta.label in AUDITED
