"""Bulk writers: COPY on PostgreSQL, batched executemany on SQLite. Rows carry explicit ids."""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Iterable

from django.db import connection
from psycopg.copy import QueuedLibpqWriter
from tqdm import tqdm

from quota.seed.columns import Batch


class Writer(ABC):
    @abstractmethod
    def write(self, table: str, batches: Iterable[Batch], progress: tqdm, rows: int = 0) -> int:
        """Insert the batches into `table` (about `rows` rows); returns the number of rows written."""

    @abstractmethod
    def finish(self, tables: list[str]) -> None:
        """After the last table: ids continue after the explicit ones, statistics are fresh."""


# Below this many rows a table keeps its indexes while loading; above, rebuilding them afterwards is faster.
REBUILD_INDEXES_FROM_ROWS = 200_000


class PostgresCopyWriter(Writer):
    """COPY ... FROM STDIN in text format, one COPY per table, fed batch by batch.

    The queued writer sends data from a background thread, so PostgreSQL parses one batch
    while Python formats the next. For big tables the secondary indexes (not those behind a
    primary key or unique constraint) are dropped first and recreated from their own
    definitions afterwards: one sort per index instead of millions of random insertions.
    All of it runs inside the seed's transaction, so a failure restores them too.
    """

    def write(self, table: str, batches: Iterable[Batch], progress: tqdm, rows: int = 0) -> int:
        quote = connection.ops.quote_name
        pending = iter(batches)
        first = next(pending, None)
        if first is None:
            return 0
        rebuild = self._drop_secondary_indexes(table) if rows >= REBUILD_INDEXES_FROM_ROWS else []
        sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in first.columns)}) FROM STDIN"
        written = 0
        with connection.cursor() as cursor, cursor.cursor.copy(sql, writer=QueuedLibpqWriter(cursor.cursor)) as copy:
            for batch in itertools.chain([first], pending):
                copy.write(batch.copy_lines())
                written += batch.size
                progress.update(batch.size)
        if rebuild:
            progress.set_postfix_str(f"rebuilding {len(rebuild)} indexes")
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
                for definition in rebuild:
                    cursor.execute(definition)
        return written

    @staticmethod
    def _drop_secondary_indexes(table: str) -> list[str]:
        """Drop the table's indexes that back no constraint; return their CREATE INDEX statements."""
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT index_class.relname, pg_get_indexdef(index_class.oid)
                FROM pg_index
                JOIN pg_class index_class ON index_class.oid = pg_index.indexrelid
                WHERE pg_index.indrelid = %s::regclass
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE pg_constraint.conindid = pg_index.indexrelid)
                """,
                [table],
            )
            indexes = cursor.fetchall()
            for name, _ in indexes:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        return [definition for _, definition in indexes]

    def finish(self, tables: list[str]) -> None:
        with connection.cursor() as cursor:
            for table in tables:
                quoted = connection.ops.quote_name(table)
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {quoted}",
                    [table],
                )
            # Fresh statistics, so the first queries on the new data get sensible plans.
            cursor.execute(f"ANALYZE {', '.join(connection.ops.quote_name(t) for t in tables)}")


class SqliteWriter(Writer):
    """executemany per batch on the raw sqlite3 cursor (inside Django's transaction)."""

    def write(self, table: str, batches: Iterable[Batch], progress: tqdm, rows: int = 0) -> int:
        quote = connection.ops.quote_name
        connection.ensure_connection()
        cursor = connection.connection.cursor()
        written = 0
        try:
            for batch in batches:
                columns = ", ".join(quote(c) for c in batch.columns)
                sql = f"INSERT INTO {quote(table)} ({columns}) VALUES ({', '.join('?' * len(batch.columns))})"
                cursor.executemany(sql, batch.sqlite_rows())
                written += batch.size
                progress.update(batch.size)
        finally:
            cursor.close()
        return written

    def finish(self, tables: list[str]) -> None:
        # AUTOINCREMENT already continues after the largest id; statistics help the planner pick indexes.
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def writer_for_connection() -> Writer:
    if connection.vendor == "postgresql":
        return PostgresCopyWriter()
    if connection.vendor == "sqlite":
        return SqliteWriter()
    raise NotImplementedError(f"quota seed supports PostgreSQL and SQLite, not {connection.vendor}")
