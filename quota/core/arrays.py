"""Numeric query results straight into numpy arrays: no model, dict or tuple per row on the way."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import psycopg
from django.core.exceptions import EmptyResultSet
from django.db import connections, models


def fetch_numbers(rows: models.QuerySet, using: str, columns: int = 4, packed: int = 0) -> np.ndarray:
    """Numeric rows straight from the database into an array (no model, dict or tuple per row: there can be 100,000).

    `packed`: the last of the `columns` holds that many numbers already packed (PackedDoubles), which become
    as many columns of the array.
    """
    numbers = columns - 1 if packed else columns  # the columns that are plain numbers
    try:
        sql, params = rows.query.get_compiler(using).as_sql()
    except EmptyResultSet:  # a filter that matches nothing (a user who may see no one): Django would return no rows
        return np.empty((0, numbers + packed))
    connection = connections[using]
    if connection.vendor == "postgresql":
        return _fetch_packed(connection, sql, params, numbers, packed)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    # Every column is a number (ids, day numbers, sums coalesced to 0): no per-value Python on the way.
    flat = itertools.chain.from_iterable(row[:numbers] for row in fetched) if packed else itertools.chain.from_iterable(fetched)
    array = np.fromiter(flat, dtype=np.float64, count=len(fetched) * numbers).reshape(-1, numbers)
    if np.isnan(array).any():  # numpy reads None as NaN
        raise ValueError(f"Rows with an empty value: coalesce every column of {sql}")
    if packed:
        tail = np.frombuffer(b"".join(row[-1] for row in fetched), dtype=">f8").reshape(-1, packed)
        array = np.hstack([array, tail])
    return array


def _fetch_packed(connection: Any, sql: str, params: Sequence[Any], numbers: int, packed: int) -> np.ndarray:
    """PostgreSQL packs the rows into one bytea of big-endian doubles (float8send), which numpy reads as it is.

    One value comes back instead of 100,000 rows for the driver to turn into Python numbers one by one (most of
    the read at that size). Ids and day numbers are exact as doubles. Each row is packed whole, then the rows
    are joined: one aggregate call per row, not one per value; a last column already packed (`packed` numbers)
    is joined as it is. A NULL would drop its row: the count says so.
    """
    names = [f"c{index}" for index in range(numbers + (1 if packed else 0))]
    parts = [f"float8send({name}::float8)" for name in names[:numbers]] + names[numbers:]
    width = numbers + packed
    statement = f"SELECT string_agg({' || '.join(parts)}, ''::bytea), count(*) FROM ({sql}) AS numbers ({', '.join(names)})"
    connection.ensure_connection()
    # The binary protocol: the byteas arrive as bytes, not hex text to decode.
    raw = psycopg.Cursor(connection.connection)
    raw.format = psycopg.pq.Format.BINARY
    # Through Django's wrapper all the same: logged, counted and instrumented like every other query.
    wrap = connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
    with wrap(raw) as cursor:
        cursor.execute(statement, params)
        data, count = cursor.fetchone()
    if data is None or len(data) != count * width * 8:
        if count:
            raise ValueError(f"{count} rows to pack, some with an empty value: coalesce every column of {sql}")
        return np.empty((0, width))  # no rows: string_agg of nothing is NULL
    return np.frombuffer(data, dtype=">f8").astype(np.float64).reshape(-1, width)
