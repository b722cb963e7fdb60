"""The database around a seed: is it empty, and emptying it (--flush)."""

from __future__ import annotations

from collections.abc import Iterator

from django.apps import apps
from django.db import connection, models

from quota.seed.world import SEEDED_MODELS


class FlushRefused(Exception):
    """Rows of another app point at seeded rows and protect them."""


def existing_rows() -> dict[str, int]:
    """Row counts of the seeded tables that already hold data (empty dict: nothing there yet)."""
    found = {}
    for model in SEEDED_MODELS:
        if model._default_manager.exists():
            found[str(model._meta.verbose_name_plural)] = model._default_manager.count()
    return found


def describe(rows: dict[str, int], limit: int = 4) -> str:
    """'12 users, 300 companies, ...' for a one-line message."""
    parts = [f"{count:,} {name}" for name, count in rows.items()]
    return ", ".join(parts[:limit]) + (", ..." if len(parts) > limit else "")


def _references() -> Iterator[tuple[type[models.Model], models.ForeignKey]]:
    """(model, foreign key) for every existing table with a foreign key to a seeded model."""
    tables = set(connection.introspection.table_names())
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or model._meta.db_table not in tables:
            continue
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model in SEEDED_MODELS:
                yield model, field  # type: ignore[misc]


def _release_outside_references() -> None:
    """Apply other apps' on_delete rules to their rows that point at seeded rows (the admin log, say)."""
    for model, field in _references():
        if model in SEEDED_MODELS:
            continue
        rows = model._base_manager.filter(**{f"{field.name}__isnull": False})
        if not rows.exists():
            continue
        rule = field.remote_field.on_delete
        if rule is models.CASCADE:
            rows.delete()
        elif rule is models.SET_NULL:
            rows.update(**{field.name: None})
        else:
            target = field.related_model._meta.verbose_name_plural
            raise FlushRefused(
                f"{rows.count():,} {model._meta.verbose_name_plural} ({model._meta.label}.{field.name}) "
                f"protect the {target} --flush would delete: delete them first"
            )


def _truncatable() -> list[type[models.Model]]:
    """Seeded models PostgreSQL may TRUNCATE: those only other truncated tables point at.

    TRUNCATE refuses a table that a table outside the statement references, even an empty one;
    seeded tables other apps reference (people, leads, ...) go by DELETE instead.
    """
    pointing: dict[type[models.Model], set[type[models.Model]]] = {m: set() for m in SEEDED_MODELS}
    for model, field in _references():
        if model is not field.related_model:
            pointing[field.related_model].add(model)
    chosen = set(SEEDED_MODELS)
    while shrunk := {m for m in chosen if pointing[m] - chosen}:
        chosen -= shrunk
    return [m for m in SEEDED_MODELS if m in chosen]


def flush_seeded_tables() -> None:
    """Delete every row of the seeded models; reference data (pipeline, sources, loss reasons, rates) stays.

    Other apps' rows that point at them get their own on_delete rule first. On PostgreSQL the
    seeded tables go by TRUNCATE where the schema allows, the rest by DELETE; SQLite deletes all.
    Sequences are left alone: the seed sets them after writing its explicit ids.
    """
    _release_outside_references()
    quote = connection.ops.quote_name
    truncated = _truncatable() if connection.vendor == "postgresql" else []
    with connection.cursor() as cursor:
        if truncated:
            cursor.execute(f"TRUNCATE {', '.join(quote(m._meta.db_table) for m in truncated)}")
        for model in reversed(SEEDED_MODELS):
            if model not in truncated:
                cursor.execute(f"DELETE FROM {quote(model._meta.db_table)}")
        if connection.vendor == "sqlite":
            tables = [m._meta.db_table for m in SEEDED_MODELS]
            cursor.execute(f"DELETE FROM sqlite_sequence WHERE name IN ({', '.join(['%s'] * len(tables))})", tables)
