"""Reading the audit trail: a record's history, and the whole trail filtered for the audit page and its export.

Entries are django-auditlog's `LogEntry` rows; `describe` turns a batch of them into `Entry`s whose
changes say old -> new in words (a related record's name, a choice's label), naming related
records with one query per kind of record in the batch, however many entries it holds.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from quota.audit.registry import audited_fields, audited_models

ACTIONS = {
    LogEntry.Action.CREATE: ("create", gettext_lazy("Created")),
    LogEntry.Action.UPDATE: ("update", gettext_lazy("Updated")),
    LogEntry.Action.DELETE: ("delete", gettext_lazy("Deleted")),
}


@dataclass(frozen=True)
class Change:
    """One field of one entry: its stored values (as JSON) and the same in words."""

    field: str
    label: str
    old: Any
    new: Any
    old_text: str
    new_text: str


@dataclass(frozen=True)
class Entry:
    """One create, change or delete of a record: when, by whom, and the audited fields it touched."""

    pk: int
    at: dt.datetime
    actor: Any
    actor_email: str  # kept when the person is later deleted
    action: int
    model: type[models.Model] | None
    object_id: int | None
    object_repr: str
    changes: list[Change] = field(default_factory=list)

    @property
    def actor_label(self) -> str:
        """Who made the change: the person, the e-mail of one since deleted, else the system (imports, scripts)."""
        if self.actor is not None:
            return str(self.actor)
        return self.actor_email or _("System")

    @property
    def action_key(self) -> str:
        return ACTIONS.get(self.action, ("update", ""))[0]

    @property
    def action_label(self) -> str:
        return str(ACTIONS.get(self.action, ("", _("Updated")))[1])

    @property
    def kind_label(self) -> str:
        return capfirst(str(self.model._meta.verbose_name)) if self.model else ""

    @property
    def url(self) -> str | None:
        """The record's page, while it exists and has one."""
        if self.model is None or self.object_id is None or self.action == LogEntry.Action.DELETE:
            return None
        try:
            return reverse(f"{self.model._meta.app_label}:{self.model._meta.model_name}_detail", args=[self.object_id])
        except NoReverseMatch:
            return None


# --------------------------------------------------------------------------- queries


def audited_content_types() -> dict[int, type[models.Model]]:
    """The kinds of record the trail holds, by content type id (ContentType caches these)."""
    found = ContentType.objects.get_for_models(*audited_models())
    return {content_type.pk: model for model, content_type in found.items()}


def entries_of(record: models.Model) -> QuerySet[LogEntry]:
    """A record's entries, newest first."""
    return LogEntry.objects.get_for_object(record).select_related("actor").order_by("-timestamp", "-pk")


def history_of(record: models.Model) -> list[Entry]:
    """Everything recorded of one record, newest first (a record has tens of entries, not millions)."""
    return describe(entries_of(record))


@dataclass(frozen=True)
class AuditFilter:
    """What the audit page asks for; every part is optional."""

    content_type_id: int | None = None
    actor_id: int | None = None
    field: str = ""
    start: dt.date | None = None  # inclusive, in the company's time zone
    end: dt.date | None = None  # inclusive
    object_id: int | None = None


def audit_entries(wanted: AuditFilter) -> QuerySet[LogEntry]:
    """The entries of audited records matching `wanted`, newest first."""
    kinds = list(audited_content_types())
    entries = LogEntry.objects.filter(content_type_id__in=kinds)
    if wanted.content_type_id is not None:
        entries = entries.filter(content_type_id=wanted.content_type_id)
    if wanted.object_id is not None:
        entries = entries.filter(object_id=wanted.object_id)
    if wanted.actor_id is not None:
        entries = entries.filter(actor_id=wanted.actor_id)
    if wanted.field:
        entries = entries.filter(changes__has_key=wanted.field)
    if wanted.start is not None:
        entries = entries.filter(timestamp__gte=_day_start(wanted.start))
    if wanted.end is not None:
        entries = entries.filter(timestamp__lt=_day_start(wanted.end + dt.timedelta(days=1)))
    return entries.select_related("actor").order_by("-timestamp", "-pk")


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


def field_choices() -> list[tuple[str, str]]:
    """Every audited field once, labelled with the kinds of record that have it: ("owner", "Owner (deal, company)")."""
    kinds: dict[str, list[str]] = defaultdict(list)
    labels: dict[str, str] = {}
    for model in audited_models():
        for name in audited_fields(model):
            labels.setdefault(name, capfirst(str(getattr(model._meta.get_field(name), "verbose_name", name))))
            kinds[name].append(str(model._meta.verbose_name))
    return sorted(((name, f"{labels[name]} ({', '.join(kinds[name])})") for name in labels), key=lambda pair: pair[1].casefold())


# --------------------------------------------------------------------------- in words


def describe(entries: Iterable[LogEntry], *, only_field: str = "") -> list[Entry]:
    """The entries with their changes in words; related records are named with one query per kind."""
    rows = list(entries)
    models_by_type = audited_content_types()
    wanted: dict[type[models.Model], set[Any]] = defaultdict(set)
    for row in rows:
        model = models_by_type.get(row.content_type_id)
        for name, (old, new) in _changes(row, model):
            target = _related_model(model, name)
            if target is not None:
                wanted[target].update(value for value in (old, new) if value not in (None, ""))
    names = {
        (target, pk): str(record)
        for target, pks in wanted.items()
        for pk, record in _with_parents(target).in_bulk([_as_int(pk) for pk in pks]).items()
    }
    result = []
    for row in rows:
        model = models_by_type.get(row.content_type_id)
        changes = [
            _change(model, name, old, new, names)
            for name, (old, new) in _changes(row, model)
            if not only_field or name == only_field
        ]
        result.append(
            Entry(
                pk=row.pk,
                at=row.timestamp,
                actor=row.actor,
                actor_email=row.actor_email or "",
                action=row.action,
                model=model,
                object_id=row.object_id,
                object_repr=row.object_repr,
                changes=changes,
            )
        )
    return result


def describe_in_batches(entries: QuerySet[LogEntry], *, size: int = 2000, only_field: str = "") -> Iterator[Entry]:
    """`describe` for a trail of any length (an export): read and named a batch at a time."""
    rows = entries.iterator(chunk_size=size)
    while batch := list(islice(rows, size)):
        yield from describe(batch, only_field=only_field)


def _with_parents(model: type[models.Model]) -> QuerySet:
    """The records' parents their names show (a stage names its pipeline), in the same query."""
    parents = [f.name for f in model._meta.concrete_fields if f.many_to_one and not f.null]
    return model._default_manager.select_related(*parents)


def _changes(row: LogEntry, model: type[models.Model] | None) -> list[tuple[str, tuple[Any, Any]]]:
    """The entry's (field, (old, new)) pairs, in the order the registry lists the fields."""
    changes = row.changes if isinstance(row.changes, dict) else {}
    order = {name: index for index, name in enumerate(audited_fields(model))} if model else {}
    pairs = [(name, (pair[0], pair[1])) for name, pair in changes.items() if isinstance(pair, list | tuple) and len(pair) == 2]
    return sorted(pairs, key=lambda item: (order.get(item[0], len(order)), item[0]))


def _model_field(model: type[models.Model] | None, name: str) -> Any:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except Exception:
        return None  # a field removed since the entry was written


def _related_model(model: type[models.Model] | None, name: str) -> type[models.Model] | None:
    model_field = _model_field(model, name)
    if model_field is not None and model_field.many_to_one:
        return model_field.related_model
    return None


def _change(model: type[models.Model] | None, name: str, old: Any, new: Any, names: dict[tuple[Any, Any], str]) -> Change:
    model_field = _model_field(model, name)
    label = capfirst(str(model_field.verbose_name)) if model_field is not None else name
    return Change(name, label, old, new, _text(model_field, old, names), _text(model_field, new, names))


def _text(model_field: Any, value: Any, names: dict[tuple[Any, Any], str]) -> str:
    if value is None or value == "":
        return ""
    if model_field is None:
        return str(value)
    if model_field.many_to_one:
        return names.get((model_field.related_model, _as_int(value)), f"#{value}")
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool) or isinstance(model_field, models.BooleanField):
        return _("Yes") if value in (True, "True") else _("No")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _as_int(value: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return value
