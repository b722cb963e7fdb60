"""Inserting many new records at once: `bulk_create`, by COPY on PostgreSQL.

Django's bulk_create builds an INSERT with a placeholder per value, which costs more than the
rest of an import's work per row; COPY sends the values as one stream. The records end up as
bulk_create leaves them: with their ids (taken from the table's sequence before the COPY), marked
saved, and no signals sent. A refused row (a check constraint) fails the whole COPY, as it fails
a bulk_create's INSERT; the writer then retries row by row to name it.

A table filled in one transaction keeps the planner statistics it had before (none, in a new
database), so looking rows up by an index turns into scanning the table, batch after batch:
`keep_statistics` runs ANALYZE each time a step has doubled what it wrote (in the transaction,
PostgreSQL counts its own new rows; the statistics are kept if it commits).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import cache
from typing import Any

from django.db import connections, models, router
from django.db.models.base import ModelState

from quota.core import dataversions

SQLITE_BATCH = 500
# Values get_db_prep_save leaves as they are on PostgreSQL, by the exact class of the field: these are
# written without it (an aware datetime too). Anything else, and any other field, goes through it.
NONE = type(None)
AS_THEY_ARE: dict[type[models.Field], frozenset[type]] = {
    models.CharField: frozenset({str, NONE}),
    models.TextField: frozenset({str, NONE}),
    models.IntegerField: frozenset({int, NONE}),
    models.PositiveIntegerField: frozenset({int, NONE}),
    models.PositiveSmallIntegerField: frozenset({int, NONE}),
    models.SmallIntegerField: frozenset({int, NONE}),
    models.BigIntegerField: frozenset({int, NONE}),
    models.BooleanField: frozenset({bool, NONE}),
    models.DecimalField: frozenset({Decimal, NONE}),
    models.DateField: frozenset({dt.date, NONE}),
    models.DateTimeField: frozenset({NONE}),
}


def bulk_insert(model: type[models.Model], records: Sequence[models.Model]) -> None:
    if not records:
        return
    alias = router.db_for_write(model)
    connection = connections[alias]
    dataversions.written(model, alias)  # COPY passes no Django cursor: kept figures and pages learn of the rows here
    if connection.vendor != "postgresql":
        model._default_manager.db_manager(alias).bulk_create(records, batch_size=SQLITE_BATCH)
        return
    meta = model._meta
    primary = meta.pk
    assert primary is not None
    columns = _columns(model)
    related = _related(model)
    quote = connection.ops.quote_name
    names = ", ".join(quote(str(c)) for c in [primary.column, *(column[0].column for column in columns)])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, primary.column, len(records)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        # psycopg's own cursor, wrapped so a refusal is Django's DatabaseError (IntegrityError) as from bulk_create.
        with connection.wrap_database_errors, cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({names}) FROM STDIN") as copy:
            for record, new_id in zip(records, ids, strict=True):
                _check_related(record, related)
                record.pk = new_id
                values = record.__dict__
                row: list[Any] = [new_id]
                for field, read, as_they_are, moment in columns:
                    value = read(record) if read is not None else values[field.attname]
                    kind = type(value)
                    if kind not in as_they_are and not (moment and kind is dt.datetime and value.tzinfo is not None):
                        value = field.get_db_prep_save(value, connection)
                    row.append(value)
                copy.write_row(row)
    for record in records:
        record._state.adding, record._state.db = False, alias


def record_from(model: type[models.Model], values: dict[str, Any]) -> models.Model:
    """A new record from every field's value by attname (deal_id=...): `model(**values)` without its cost.

    For records made by the thousand (stage history); every field must be given, so no default is
    needed (a default of "now" must not be frozen at the first use).
    """
    missing = _attnames(model) - values.keys()
    if missing:
        raise ValueError(f"record_from({model.__name__}) needs every field; missing {', '.join(sorted(missing))}")
    record = model.__new__(model)
    record.__dict__.update(values)
    record.__dict__.setdefault(model._meta.pk.attname, None)
    record._state = ModelState()
    return record


def keep_statistics(model: type[models.Model], written: int, analyzed: int) -> int:
    """ANALYZE the model's table once `written` rows (this step's, so far) reach twice `analyzed`; returns the new mark."""
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql" or written < max(2 * analyzed, 1):
        return analyzed
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return written


Column = tuple[models.Field, Callable[[models.Model], Any] | None, frozenset[type], bool]


@cache
def _columns(model: type[models.Model]) -> list[Column]:
    """The fields COPY writes: each with `pre_save` when it can change the value (auto_now and the
    like), and the value types written as they are."""
    columns: list[Column] = []
    for field in model._meta.concrete_fields:
        if field.primary_key or isinstance(field, models.GeneratedField):
            continue
        plain_date = isinstance(field, models.DateField) and not (field.auto_now or field.auto_now_add)
        own_pre_save = type(field).pre_save is not models.Field.pre_save and not plain_date
        read = (lambda record, field=field: field.pre_save(record, True)) if own_pre_save else None
        if type(field) is models.ForeignKey:
            target = type(field.target_field)
            as_they_are = frozenset({int, NONE}) if target in (models.AutoField, models.BigAutoField) else frozenset()
        else:
            as_they_are = AS_THEY_ARE.get(type(field), frozenset())
        columns.append((field, read, as_they_are, type(field) is models.DateTimeField))
    return columns


@cache
def _related(model: type[models.Model]) -> list[models.ForeignKey]:
    return [f for f in model._meta.concrete_fields if isinstance(f, models.ForeignKey)]


@cache
def _attnames(model: type[models.Model]) -> frozenset[str]:
    return frozenset(f.attname for f in model._meta.concrete_fields if not f.primary_key)


def _check_related(record: models.Model, related: list[models.ForeignKey]) -> None:
    """What Model._prepare_related_fields_for_save does for a foreign key: refuse an unsaved related
    record, and take the id of one saved after it was assigned."""
    cached = record._state.fields_cache
    if not cached:
        return
    for field in related:
        target = cached.get(field.name)
        if target is None:
            continue
        if target.pk is None:
            raise ValueError(f"save() prohibited to prevent data loss due to unsaved related object '{field.name}'.")
        if record.__dict__.get(field.attname) in field.empty_values:
            setattr(record, field.name, target)
