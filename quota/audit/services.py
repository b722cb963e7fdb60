"""Writes to the audit trail beyond what django-auditlog's signals write by themselves.

- `complete_entry`: every entry names the user acting (quota.core.actor) unless it names one already,
  and keeps amounts with the decimal places they are stored with.
- `record_bulk_updates`: bulk writes (an import's `bulk_update`) send no signals, so their changes to
  audited fields are written here, one entry per record, in one INSERT per batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from auditlog.cid import get_cid
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.encoding import smart_str

from quota.audit.registry import is_audited
from quota.core.actor import current_actor


def complete_entry(sender: type[LogEntry], instance: LogEntry, **kwargs: Any) -> None:
    """pre_save of LogEntry: the user acting now (unless the entry names one), and amounts as they are stored."""
    if instance.actor_id is None:
        actor = current_actor()
        if actor is not None:
            instance.actor = actor
            instance.actor_email = actor.email or None
    if isinstance(instance.changes, dict):
        instance.changes = stored_decimals(instance.content_type.model_class(), instance.changes)


def stored_decimals(model: type[models.Model] | None, changes: dict[str, Any]) -> dict[str, Any]:
    """Decimal values with the places the column keeps ("130000" typed in a form is stored as 130000.00)."""
    if model is None:
        return changes
    result = dict(changes)
    for name, pair in changes.items():
        try:
            model_field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if isinstance(model_field, models.DecimalField) and isinstance(pair, list | tuple) and len(pair) == 2:
            result[name] = [_with_places(value, model_field.decimal_places) for value in pair]
    return result


def _with_places(value: Any, places: int) -> Any:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return value  # None, or text that is not a number: as it was
    return str(number.quantize(Decimal(1).scaleb(-places))) if number.is_finite() else value


def record_bulk_updates(
    model: type[models.Model], changes: Iterable[tuple[models.Model, models.Model, Sequence[str]]], *, by: Any = None
) -> int:
    """One "update" entry per (before, after, changed field names) whose audited fields changed; returns how many.

    `by` is the user the changes are by (else whoever acts now).
    """
    if not is_audited(model):
        return 0
    actor = by if getattr(by, "pk", None) is not None else current_actor()
    content_type = ContentType.objects.get_for_model(model)
    now, cid = timezone.now(), get_cid()
    entries = []
    for before, after, changed in changes:
        diff = model_instance_diff(
            before, after, fields_to_check=changed, use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES
        )
        if not diff:
            continue
        entries.append(
            LogEntry(
                content_type=content_type,
                object_pk=smart_str(after.pk),
                object_id=after.pk,
                object_repr=smart_str(after),
                action=LogEntry.Action.UPDATE,
                changes=stored_decimals(model, diff),
                actor=actor,
                actor_email=getattr(actor, "email", None) or None,
                timestamp=now,
                cid=cid,
            )
        )
    LogEntry.objects.bulk_create(entries, batch_size=500)
    return len(entries)
