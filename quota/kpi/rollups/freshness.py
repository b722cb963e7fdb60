"""Whether a leaf's rollups may be read: which are fresh, which are stale, and marking them stale.

Fresh: built in the current time zone, and no record of the source newer than the newest they include
(rows inserted behind the ORM's back, by COPY or bulk_create, make them stale until the next rebuild).
A write they could not follow marks them stale (`max_pk` -1 on their RollupState): the engine reads
the records meanwhile, and the periodic task rebuilds them (kpi.rollups.keeping).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from quota.kpi.models import RollupState
from quota.kpi.plans import Leaf
from quota.kpi.rollups.eligibility import rollup_leaves
from quota.kpi.sources import SOURCES, Source, get_source

logger = logging.getLogger(__name__)
# Within `checked_once()`: per database, every fresh leaf and the id its rows carry.
_checked: ContextVar[dict[str, dict[str, int]] | None] = ContextVar("kpi_rollups_checked", default=None)


@contextmanager
def checked_once() -> Iterator[None]:
    """Within the block, which rollups are fresh is read once per database, for every leaf, not once per evaluation.

    For a page that only reads (a dashboard's sections): it reads one query instead of one per section, and every
    section reads the same rollups. A leaf marked stale inside the block is seen at once (`mark_stale` forgets what
    was read); rows inserted behind the ORM's back inside the block are not.
    """
    token = _checked.set({})
    try:
        yield
    finally:
        _checked.reset(token)


def all_fresh(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether every leaf the current KPIs could read from rollups has fresh ones (else `rebuild()`)."""
    leaves = rollup_leaves(using)
    return fresh_leaves(leaves, using).keys() == {leaf.key for leaf in leaves}


def forget_checked(using: str) -> None:
    """Within `checked_once()`, read again which rollups are fresh (they were marked stale, rebuilt or dropped)."""
    checked = _checked.get()
    if checked is not None:
        checked.pop(using, None)


def fresh_leaves(leaves: Iterable[Leaf], using: str) -> dict[str, int]:
    """The leaves whose rollups are fresh: their key and the id their rows carry (one query, or none within
    `checked_once()` once read)."""
    leaves = list(leaves)
    checked = _checked.get()
    if checked is None:
        return _fresh([leaf.key for leaf in leaves], {leaf.source for leaf in leaves}, using)
    if using not in checked:
        checked[using] = _fresh(None, set(SOURCES), using)
    fresh = checked[using]
    return {leaf.key: fresh[leaf.key] for leaf in leaves if leaf.key in fresh}


def _fresh(keys: list[str] | None, sources: set[str], using: str) -> dict[str, int]:
    """The fresh ones of the leaves `keys` (None: of every leaf), whose records are of `sources`: one statement.

    Each state is read beside the newest id of its source's records, an uncorrelated subquery the database runs once.
    Written out, not built with the ORM: a page asks this once, and compiling a subquery for each source took longer
    than running the query.
    """
    if not sources or keys == []:
        return {}
    connection = connections[using]
    quote = connection.ops.quote_name
    fields = ("id", "leaf", "max_pk", "time_zone", "source")
    column = {name: quote(str(RollupState._meta.get_field(name).column)) for name in fields}  # type: ignore[union-attr]
    newest = " ".join(f"WHEN %s THEN ({_newest(get_source(key), quote)})" for key in sorted(sources))
    params: list[Any] = sorted(sources)
    read = ", ".join(column[name] for name in ("id", "leaf", "max_pk", "time_zone"))
    sql = f"SELECT {read}, CASE {column['source']} {newest} END FROM {quote(RollupState._meta.db_table)}"
    if keys is not None:
        sql += f" WHERE {column['leaf']} IN ({', '.join(['%s'] * len(keys))})"
        params += keys
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    zone = str(settings.TIME_ZONE)
    return {
        leaf: pk
        for pk, leaf, max_pk, time_zone, newest_pk in rows
        if time_zone == zone and max_pk >= 0 and (newest_pk or 0) <= max_pk
    }


def _newest(source: Source, quote: Callable[[str], str]) -> str:
    """SQL for the newest id of a source's records."""
    meta = source.model._meta
    return f"SELECT MAX({quote(str(meta.pk.column))}) FROM {quote(meta.db_table)}"


def unbuilt_leaves(using: str = DEFAULT_DB_ALIAS) -> list[Leaf]:
    """The current KPIs' leaves that have no rollups while others have (a KPI or a stage added since they were
    built); none where no rollups are built at all: such an install reads the records by choice."""
    built = set(RollupState.objects.using(using).values_list("leaf", flat=True))
    return [leaf for leaf in rollup_leaves(using) if leaf.key not in built] if built else []


def stale_leaves(using: str = DEFAULT_DB_ALIAS) -> list[Leaf]:
    """The current KPIs' leaves whose rollups were built but are stale now (never-built ones nothing reads)."""
    built = set(RollupState.objects.using(using).values_list("leaf", flat=True))
    leaves = [leaf for leaf in rollup_leaves(using) if leaf.key in built]
    fresh = fresh_leaves(leaves, using) if leaves else {}
    return [leaf for leaf in leaves if leaf.key not in fresh]


def mark_stale(sources: Sequence[str], *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Make the engine read the records for `sources` until their rollups are rebuilt; never raises.

    Called after a commit, often because the database connection broke (a connection killed under a
    request): the mark is tried again once on a new connection, since an unmarked stale rollup is
    read as if it were right.
    """

    forget_checked(using)

    def mark() -> None:
        RollupState.objects.using(using).filter(source__in=list(sources)).update(max_pk=-1)

    connection = connections[using]
    try:
        mark()
        return
    except DatabaseError:
        if connection.in_atomic_block:  # a caller's transaction: not ours to reconnect
            logger.exception("KPI rollups of %s could not be marked stale", ", ".join(sources))
            return
        connection.close()  # a broken connection: the next query opens a new one
    try:
        mark()
    except DatabaseError:
        logger.exception(
            "KPI rollups of %s could not be marked stale: they may be wrong until `quota kpi rollup`", ", ".join(sources)
        )
