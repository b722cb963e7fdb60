"""Which tables a piece of work read, and a version of every table that changes with each committed write.

Caches that keep derived values (a rendered page, a KPI table) key them on the versions of what they read, so a
write shows on the next request in every process. Both ends are seen at the SQL level, on every connection:

- a write (INSERT, UPDATE, DELETE, TRUNCATE through Django's cursors: model saves, `queryset.update()`,
  `bulk_create`, raw SQL) gives each table it touched a new version once its transaction commits (at once in
  autocommit). COPY does not pass through Django's cursors: the imports that use it call `written()`;
- a read inside `reading()` notes each table its SELECTs name, with the table's version as it was just before
  the first of them ran (a write committed after that leaves the noted version behind: never a stale value
  kept under a new version).

Some reads only concern a few rows: the activities behind the hygiene flags of the deals a page shows. Within
`rows_of(Activity, "deal")` such a read depends on those deals' activities alone (`RowKeys.are(ids)`), and a
model save or delete of an activity gives a new version to the rows of its deal (before and after the change);
a write that is not one record's save (an update of many, a bulk insert, SQL) gives one to all of the table's
rows. So a call logged on one deal leaves the board of the others as it was kept.

Tables that only accelerate others (KPI rollups: the engine reads them instead of their sources, and their
sources' versions are what counts, see kpi.rollups.keeping) and per-request bookkeeping (sessions, login
attempts) are not versioned. Versions live in the shared cache (Redis in production) and are off, like the
caches that need them, without one (`enabled()`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any

from django.conf import settings
from django.core.cache import cache as shared
from django.core.signals import request_finished
from django.db import models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.db.models.signals import post_delete, post_init, post_save, pre_delete, pre_save

PREFIX = "data:v:"  # data:v:<alias>:<table>, data:v:<alias>:<table>~rows, data:v:<alias>:<table>~<column>=<id>
# Derived or bookkeeping tables: never a dependency, never worth a version.
UNVERSIONED = frozenset({"kpi_rollup", "kpi_rollupstate", "django_session", "axes_accessattempt", "axes_accesslog"})

# A table named after these words: quoted, as Django writes it, or bare, as hand-written SQL may (see `_named`).
_READ = re.compile(r'\b(?:FROM|JOIN)\s+(")?(\w+)', re.IGNORECASE)
_QUOTED = re.compile(r'"(\w+)"')
_WRITE = re.compile(r'\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?)\s+(")?(\w+)', re.IGNORECASE)


def enabled() -> bool:
    """Versions are kept when a cache needs them: the KPI cache or the page cache (both need a shared cache)."""
    return int(getattr(settings, "KPI_CACHE_SECONDS", 0)) > 0 or int(getattr(settings, "PAGE_CACHE_SECONDS", 0)) > 0


def table_key(table: str, using: str = "default") -> str:
    return f"{PREFIX}{using}:{table}"


def _rows_key(table: str, using: str) -> str:
    return f"{PREFIX}{using}:{table}~rows"


def _row_key(table: str, column: str, value: Any, using: str) -> str:
    return f"{PREFIX}{using}:{table}~{column}={value}"


# -- reading ---------------------------------------------------------------------------------------------------


@dataclass
class Reads:
    """What a piece of work depended on: a version (or None, never written yet) per key."""

    known: dict[str, str | None]  # every table's version when the outermost block began: one round trip for all
    versions: dict[str, str | None] = field(default_factory=dict)
    scoped: dict[str, RowKeys] = field(default_factory=dict)  # table -> the rows its reads are limited to now

    def note(self, keys: Sequence[str]) -> None:
        new = [key for key in keys if key not in self.versions]
        unknown = [key for key in new if key not in self.known]
        found = shared.get_many(unknown) if unknown else {}
        self.versions.update({key: self.known[key] if key in self.known else found.get(key) for key in new})

    def note_known(self, versions: dict[str, str | None]) -> None:
        for key, version in versions.items():
            self.versions.setdefault(key, version)


_readers: ContextVar[tuple[Reads, ...]] = ContextVar("data_readers", default=())


@cache
def _all_tables() -> tuple[str, ...]:
    from django.apps import apps

    tables = {model._meta.db_table for model in apps.get_models(include_auto_created=True)}
    return tuple(sorted(tables - UNVERSIONED))


@contextmanager
def reading(using: str = "default") -> Iterator[Reads]:
    """Collect what the block reads (nested blocks also report to the outer ones).

    The versions are taken when the outermost block begins, all at once: a write committed after that leaves
    them behind, so what the block computes is never kept as newer than it is.
    """
    readers = _readers.get()
    known = readers[0].known if readers else versions([table_key(table, using) for table in _all_tables()])
    reads = Reads(known)
    token = _readers.set((*readers, reads))
    try:
        yield reads
    finally:
        _readers.reset(token)


def tables_read(sql: str) -> set[str]:
    """The tables a statement reads (FROM and JOIN), as the reads of a `reading` block are noted."""
    return _named(_READ, sql) - UNVERSIONED


def _named(pattern: re.Pattern[str], sql: str) -> set[str]:
    """The tables `pattern` finds in a statement: every quoted name, and a bare one where it is a model's table
    (`INSERT INTO crm_dealstate` written by hand), not an alias or a keyword (`FROM d`, `DO UPDATE SET`)."""
    return {name for quoted, name in pattern.findall(sql) if quoted or name in _model_tables()}


@cache
def _model_tables() -> frozenset[str]:
    return frozenset(_all_tables())


def note_read(model: type[models.Model], using: str = "default") -> None:
    """A cache of its own answered for `model`'s rows (custom field definitions): what is being read depends on them."""
    readers = _readers.get()
    if readers and model._meta.db_table not in UNVERSIONED:
        for reads in readers:
            reads.note([table_key(model._meta.db_table, using)])


def note_versions(versions: dict[str, str | None]) -> None:
    for reads in _readers.get():
        reads.note_known(versions)


def versions(keys: Sequence[str]) -> dict[str, str | None]:
    """The keys' versions now, or as the block being read began (see `reading`)."""
    readers = _readers.get()
    known = readers[0].known if readers else {}
    if known and all(key in known for key in keys):
        return {key: known[key] for key in keys}
    found = shared.get_many(list(keys))
    return {key: found.get(key) for key in keys}


@dataclass
class RowKeys:
    """Reads of `model` within `rows_of` depend on the rows whose `column` is one of the ids given to `are`."""

    model: type[models.Model]
    column: str
    using: str
    readers: tuple[Reads, ...] = ()
    ids: list[Any] | None = None

    def are(self, ids: Iterable[Any]) -> None:
        """Name the rows; their versions are taken now (name them before reading them, where the ids are known)."""
        self.ids = sorted({i for i in ids if i is not None})
        table = self.model._meta.db_table
        keys = [_row_key(table, self.column, i, self.using) for i in self.ids]
        for reads in self.readers:
            reads.note(keys)


@contextmanager
def rows_of(model: type[models.Model], link: str, using: str = "default") -> Iterator[RowKeys]:
    """Reads of `model`'s table in the block concern only its rows linked (`link`) to the ids the block names.

    The block must call `.are(ids)` with every id its reads of the table were limited to (the deals a page shows),
    and `model` must be registered with `track_rows(model, link)` so that its saves renew those rows' versions.
    """
    column = _column(model, link)
    assert (model, column) in _TRACKED, f"{model._meta.label}.{link} is not tracked by row (track_rows)"
    readers = _readers.get()
    rows = RowKeys(model, column, using, readers)
    table = model._meta.db_table
    for reads in readers:
        reads.note([_rows_key(table, using)])  # before any read: a write of many rows leaves this block behind
        reads.scoped[table] = rows
    try:
        yield rows
    finally:
        for reads in readers:
            reads.scoped.pop(table, None)
    if readers and rows.ids is None:  # (an error in the block propagates: what it read is not kept)
        raise RuntimeError(f"rows_of({model._meta.label}): the block did not name its rows (.are(ids))")


class _AnyRows:
    def are(self, ids: Iterable[Any]) -> None:
        pass


@contextmanager
def rows_of_if(spec: tuple[type[models.Model], str] | None, using: str = "default") -> Iterator[RowKeys | _AnyRows]:
    """`rows_of(*spec)`, or a block whose reads count whole when `spec` is None."""
    if spec is None:
        yield _AnyRows()
        return
    with rows_of(*spec, using=using) as rows:
        yield rows


def _read(tables: set[str], using: str) -> None:
    for reads in _readers.get():
        keys = [table_key(t, using) for t in tables if t not in UNVERSIONED and t not in reads.scoped]
        reads.note(keys)


# -- writing ---------------------------------------------------------------------------------------------------


def bump_keys(keys: Iterable[str]) -> None:
    keys = list(keys)
    if keys:
        version = uuid.uuid4().hex
        shared.set_many(dict.fromkeys(keys, version), None)


def bump_tables(tables: Iterable[str], using: str = "default") -> None:
    """New versions of whole tables now, not of their rows: their rollups were refreshed after their commit, and
    what read the tables whole (KPI figures) may have read the rollups in between."""
    if enabled():
        bump_keys(table_key(table, using) for table in tables if table not in UNVERSIONED)


def written(model: type[models.Model], using: str = "default") -> None:
    """Rows of `model` changed in the current transaction in a way Django's cursors do not see (COPY)."""
    _wrote({model._meta.db_table}, using)


def _table_keys(tables: Iterable[str], using: str) -> list[str]:
    keys = []
    for table in tables:
        if table in UNVERSIONED:
            continue
        keys.append(table_key(table, using))
        if not _is_one_record(using, table):
            keys.append(_rows_key(table, using))  # not one record's save: every row may have changed
    return keys


def _wrote(tables: set[str], using: str, keys: Iterable[str] = ()) -> None:
    if not enabled():
        return
    all_keys = {*_table_keys(tables, using), *keys}
    if not all_keys:
        return
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        bump_keys(all_keys)
        return
    # One callback per write: it belongs to the savepoint the write was made in (and the tests' capture of
    # callbacks sees it). A Redis round trip each at commit; the writes of a page are a few.
    transaction.on_commit(partial(bump_keys, sorted(all_keys)), using=using, robust=True)


def _capture(connection: BaseDatabaseWrapper, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    if not isinstance(sql, str) or not enabled():
        return execute(sql, params, many, context)
    head = sql.lstrip()[:8].upper()
    if head.startswith(("SELECT", "(SELECT", "WITH")) and _readers.get():
        _read(tables_read(sql), connection.alias)
    result = execute(sql, params, many, context)
    if not head.startswith(("SELECT", "(SELECT", "SAVEPOINT", "RELEASE", "BEGIN", "COMMIT", "ROLLBACK")):
        written_tables = set(_QUOTED.findall(sql)) if head.startswith("TRUNCATE") else _named(_WRITE, sql)
        if written_tables:
            _wrote(written_tables, connection.alias)
    return result


def _install(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    if not any(getattr(w, "func", None) is _capture for w in connection.execute_wrappers):
        # First in the list: a `connection.execute_wrapper()` block around the connection's creation pops the last.
        connection.execute_wrappers.insert(0, partial(_capture, connection))


def connect() -> None:
    """Watch every connection (called from core's ready())."""
    connection_created.connect(_install, dispatch_uid="data-versions")
    request_finished.connect(forget_unfinished, dispatch_uid="data-versions")
    from django.db import connections

    for alias in connections:  # a connection opened before this app was ready
        if connections[alias].connection is not None:
            _install(None, connections[alias])


# -- row versions ----------------------------------------------------------------------------------------------

_TRACKED: set[tuple[type[models.Model], str]] = set()
# (alias, table) of a tracked record being saved or deleted now: the next write to that table is its own.
_one_record_writes: ContextVar[frozenset[tuple[str, str]]] = ContextVar("data_one_record_writes", default=frozenset())
_LOADED = "_data_versions_loaded"


def _is_one_record(using: str, table: str) -> bool:
    return (using, table) in _one_record_writes.get()


def track_rows(model: type[models.Model], link: str) -> None:
    """Saves and deletes of `model` renew the versions of its rows by `link` (its value before and after)."""
    column = _column(model, link)
    _TRACKED.add((model, column))
    uid = f"data-versions-{model._meta.label}-{column}"
    post_init.connect(partial(_loaded, column), sender=model, weak=False, dispatch_uid=uid)
    pre_save.connect(_one_record, sender=model, weak=False, dispatch_uid=uid)
    pre_delete.connect(_one_record, sender=model, weak=False, dispatch_uid=uid)
    post_save.connect(partial(_saved, column), sender=model, weak=False, dispatch_uid=uid)
    post_delete.connect(partial(_saved, column), sender=model, weak=False, dispatch_uid=uid)


def _column(model: type[models.Model], link: str) -> str:
    found = model._meta.get_field(link)
    assert isinstance(found, models.Field), f"{model._meta.label}.{link} is not a field of its own"
    return found.get_attname()


def _loaded(column: str, sender: Any, instance: models.Model, **kwargs: Any) -> None:
    instance.__dict__[_LOADED] = instance.__dict__.get(column)


def _one_record(sender: type[models.Model], instance: models.Model, using: str = "default", **kwargs: Any) -> None:
    _one_record_writes.set(_one_record_writes.get() | {(using, sender._meta.db_table)})


def _done(using: str, table: str) -> None:
    _one_record_writes.set(_one_record_writes.get() - {(using, table)})


def forget_unfinished(**kwargs: Any) -> None:
    """A save that failed before writing leaves no mark past its request (request_finished)."""
    _one_record_writes.set(frozenset())


def _saved(column: str, sender: type[models.Model], instance: models.Model, using: str = "default", **kwargs: Any) -> None:
    table = sender._meta.db_table
    _done(using, table)
    values = {instance.__dict__.get(_LOADED), instance.__dict__.get(column)} - {None}
    instance.__dict__[_LOADED] = instance.__dict__.get(column)
    _wrote(set(), using, [_row_key(table, column, value, using) for value in values])
