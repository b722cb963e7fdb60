"""SQL expressions the KPI engine needs that Django lacks, each compiled for SQLite and PostgreSQL.

Durations: SQLite stores datetimes as text, so "days between" is a julianday() difference there
and an epoch difference on PostgreSQL; both give fractional days as a float.

Division: SQLite stores a whole decimal (2.00) as an INTEGER and divides integers as integers
(150 / 100 = 1), so money divided in SQL goes through `Quotient`, never a bare `/`.
"""

from __future__ import annotations

import datetime as dt
import struct
from typing import Any

from django.db.models import BigIntegerField, BinaryField, Expression, ExpressionWrapper, F, FloatField, Func, IntegerField, Value
from django.db.models.functions import ExtractMonth, ExtractQuarter, ExtractYear, TruncDate

# julianday() of 1970-01-01 00:00 UTC.
UNIX_EPOCH_JULIAN_DAY = 2440587.5


class PackedDoubles(Func):
    """Numbers as one binary value of big-endian doubles, which numpy reads as it is (dtype ">f8").

    PostgreSQL joins float8send()s; SQLite calls pack_doubles below, registered on each of its connections.
    A NULL among the numbers makes the whole value NULL on PostgreSQL and an error on SQLite: coalesce first.
    """

    function = "quota_pack_doubles"
    output_field = BinaryField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        parts, params = [], []
        for expression in self.get_source_expressions():
            sql, more = compiler.compile(expression)
            parts.append(f"float8send(({sql})::float8)")
            params.extend(more)
        return f"({' || '.join(parts)})", params


def pack_doubles(*numbers: float) -> bytes:
    return struct.pack(f">{len(numbers)}d", *numbers)


def register_sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    """On connection_created: the functions the KPI expressions call on SQLite."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(PackedDoubles.function, -1, pack_doubles, deterministic=True)


class DaysBetween(Func):
    """Fractional days from `start` to `end` (two datetimes)."""

    output_field = FloatField()

    def __init__(self, start: Any, end: Any) -> None:
        # Stored as (end, start): both templates below render "end - start".
        super().__init__(end, start)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="(julianday(%(expressions)s))", arg_joiner=") - julianday(", **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="(EXTRACT(EPOCH FROM (%(expressions)s)) / 86400.0)", arg_joiner=" - ", **extra
        )


class EpochDays(Func):
    """Fractional days since 1970-01-01 UTC of a datetime (sums of these give average ages)."""

    output_field = FloatField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template=f"(julianday(%(expressions)s) - {UNIX_EPOCH_JULIAN_DAY})", **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="(EXTRACT(EPOCH FROM %(expressions)s) / 86400.0)", **extra)


class Quotient(Func):
    """`dividend / divisor` with its fraction kept on both databases (PostgreSQL's numeric division keeps it already).

    On SQLite a decimal column's whole values are INTEGERs (NUMERIC affinity: 2.00 is stored as 2), and
    so are their products, which a bare `/` then truncates: a deal of 2.00 at 75 % weighed 1, not 1.5.
    The dividend becomes REAL there first, as a decimal with a fraction already is.
    """

    arity = 2
    template = "(%(expressions)s)"
    arg_joiner = " / "

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="(CAST(%(expressions)s)", arg_joiner=" AS REAL) / ", **extra)


class DateNumber(Func):
    """Whole days since 1970-01-01 of a date (an integer on both databases)."""

    output_field = IntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template=f"CAST(julianday(%(expressions)s) - {UNIX_EPOCH_JULIAN_DAY} AS INTEGER)", **extra
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="((%(expressions)s)::date - DATE '1970-01-01')", **extra)


def period_number(field: str, every: str, tzinfo: dt.tzinfo | None) -> Expression:
    """Consecutive periods get consecutive integers, so "the next period" is `+ 1` in SQL.

    `tzinfo` is the company time zone for datetime fields and None for date fields.
    """
    if every == "year":
        return ExtractYear(field, tzinfo=tzinfo)
    if every == "quarter":
        return ExtractYear(field, tzinfo=tzinfo) * 4 + ExtractQuarter(field, tzinfo=tzinfo)
    if every == "month":
        return ExtractYear(field, tzinfo=tzinfo) * 12 + ExtractMonth(field, tzinfo=tzinfo)
    day = DateNumber(TruncDate(field, tzinfo=tzinfo) if tzinfo is not None else F(field))
    if every == "week":
        # 1970-01-01 was a Thursday: shifting by 3 days makes every week start on a Monday.
        return ExpressionWrapper((day + Value(3)) / Value(7), output_field=IntegerField())
    return day


class WindowSum(Func):
    """SUM as a window over an aggregate (`SUM(SUM(x)) OVER (...)`), which Django's Sum refuses."""

    function = "SUM"
    window_compatible = True


class OverWindows(ExpressionWrapper):
    """Arithmetic on window columns: it must not be added to GROUP BY (where windows are not allowed)."""

    def get_group_by_cols(self) -> list[Any]:
        return []


class EpochSeconds(Func):
    """Whole seconds since 1970-01-01 UTC of a datetime, rounded down (an integer on both databases)."""

    output_field = BigIntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # '%%%%s': the template's own % formatting and then the driver's placeholders each halve the percent signs.
        return self.as_sql(compiler, connection, template="CAST(strftime('%%%%s', %(expressions)s) AS INTEGER)", **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="FLOOR(EXTRACT(EPOCH FROM %(expressions)s))::bigint", **extra)
