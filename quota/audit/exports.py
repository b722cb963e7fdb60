"""The audit trail as a file (CSV or XLSX through core.exports): one row per changed field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from auditlog.models import LogEntry
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from quota.audit.selectors import describe_in_batches
from quota.core.exports import ExportColumn, ExportTable, Kind


def audit_table(entries: QuerySet[LogEntry], *, only_field: str = "") -> ExportTable:
    columns = [
        ExportColumn(_("When"), Kind.DATETIME),
        ExportColumn(_("By")),
        ExportColumn(_("Action")),
        ExportColumn(_("Record type")),
        ExportColumn(_("Record id"), Kind.INTEGER),
        ExportColumn(_("Record")),
        ExportColumn(_("Field")),
        ExportColumn(_("Old value")),
        ExportColumn(_("New value")),
    ]

    def rows(limit: int | None) -> Iterator[list[Any]]:
        written = 0
        for entry in describe_in_batches(entries, only_field=only_field):
            for change in entry.changes:
                if limit is not None and written >= limit:
                    return
                yield [
                    entry.at,
                    entry.actor_label,
                    entry.action_label,
                    entry.kind_label,
                    entry.object_id,
                    entry.object_repr,
                    change.label,
                    change.old_text,
                    change.new_text,
                ]
                written += 1

    return ExportTable(name="audit-trail", columns=columns, rows=rows, title=_("Audit trail"))
