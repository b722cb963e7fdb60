"""Typed columns of generated rows, and how each becomes COPY text (PostgreSQL) or a Python value (SQLite).

Generators produce whole columns as numpy arrays; turning them into text is the hot path of
a large seed (tens of millions of values), so formatting goes through small look-up tables
and `map` rather than per-value Python code wherever it can.
"""

from __future__ import annotations

import itertools
import operator
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

COPY_NULL = "\\N"
NULL_ID = -1  # ids are >= 1, so a negative id means NULL
NULL_TIME = np.iinfo(np.int64).min  # seconds since the epoch (UTC); the minimum means NULL
NULL_DAY = np.iinfo(np.int32).min  # days since the epoch; the minimum means NULL
SECONDS_PER_DAY = 86_400


def one_based(index: np.ndarray) -> np.ndarray:
    """Ids for 0-based row indexes, NULL (NULL_ID) where the index is negative (no row)."""
    return np.where(index >= 0, index + 1, NULL_ID)


class Column(ABC):
    """One column of a batch: `copy_text` for COPY ... FROM STDIN, `sqlite_values` for executemany."""

    @abstractmethod
    def copy_text(self, n: int) -> Iterable[str]: ...

    @abstractmethod
    def sqlite_values(self, n: int) -> Iterable[Any]: ...


def _with_nulls(values: np.ndarray, is_null: np.ndarray, fmt: Callable[[np.ndarray], list[Any]], null: Any) -> list[Any]:
    """Format the non-null values with `fmt` (array -> list) and put `null` elsewhere."""
    if not is_null.any():
        return fmt(values)
    if is_null.all():
        return [null] * len(values)
    out = np.full(len(values), null, dtype=object)
    keep = ~is_null
    out[keep] = fmt(values[keep])
    return out.tolist()


def _ints_text(values: np.ndarray) -> list[str]:
    return list(map(str, values.tolist()))


@dataclass(frozen=True)
class Ints(Column):
    """Integers; negative values are NULL when `nullable` (ids and counts are never negative)."""

    values: np.ndarray
    nullable: bool = False

    def _nulls(self) -> np.ndarray:
        return self.values < 0 if self.nullable else np.zeros(len(self.values), dtype=bool)

    def copy_text(self, n: int) -> list[str]:
        return _with_nulls(self.values, self._nulls(), _ints_text, COPY_NULL)

    def sqlite_values(self, n: int) -> list[Any]:
        return _with_nulls(self.values, self._nulls(), lambda v: v.tolist(), None)


@cache
def _fraction_table(places: int) -> tuple[str, ...]:
    return tuple(f".{i:0{places}d}" for i in range(10**places))


@dataclass(frozen=True)
class Fixed(Column):
    """A non-negative decimal held as a scaled integer: cents for money (places=2), milli-units for quantities."""

    values: np.ndarray
    places: int = 2

    def _text(self, values: np.ndarray) -> list[str]:
        scale = 10**self.places
        whole, fraction = np.divmod(values, scale)
        if self.places <= 3:
            fractions = np.array(_fraction_table(self.places), dtype=object)[fraction]
            return list(map(operator.add, map(str, whole.tolist()), fractions.tolist()))
        return [f"{w}.{f:0{self.places}d}" for w, f in zip(whole.tolist(), fraction.tolist(), strict=True)]

    def copy_text(self, n: int) -> list[str]:
        return self._text(self.values)

    def sqlite_values(self, n: int) -> list[str]:
        return self._text(self.values)


@cache
def _time_of_day_table(suffix: str) -> tuple[str, ...]:
    return tuple(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}{suffix}" for s in range(SECONDS_PER_DAY))


def _day_texts(days: np.ndarray, suffix: str = "") -> list[str]:
    """ISO dates for epoch day numbers, formatted once per distinct day."""
    if days.size == 0:  # a column whose every value is NULL in this batch
        return []
    first, last = int(days.min()), int(days.max())
    span = np.arange(first, last + 1).astype("datetime64[D]")
    table = np.array([text + suffix for text in np.datetime_as_string(span).tolist()], dtype=object)
    return table[days - first].tolist()


def _times_text(values: np.ndarray, *, utc_suffix: str) -> list[str]:
    days, seconds = np.divmod(values, SECONDS_PER_DAY)
    clock = np.array(_time_of_day_table(utc_suffix), dtype=object)[seconds]
    return list(map(operator.add, _day_texts(days, " "), clock.tolist()))


@dataclass(frozen=True)
class Times(Column):
    """Instants as UTC epoch seconds. SQLite gets Django's own naive-UTC text, so string comparisons stay right."""

    values: np.ndarray

    def copy_text(self, n: int) -> list[str]:
        return _with_nulls(self.values, self.values == NULL_TIME, lambda v: _times_text(v, utc_suffix="+00"), COPY_NULL)

    def sqlite_values(self, n: int) -> list[Any]:
        return _with_nulls(self.values, self.values == NULL_TIME, lambda v: _times_text(v, utc_suffix=""), None)


@dataclass(frozen=True)
class Dates(Column):
    """Calendar dates as epoch day numbers."""

    values: np.ndarray

    def copy_text(self, n: int) -> list[str]:
        return _with_nulls(self.values, self.values == NULL_DAY, _day_texts, COPY_NULL)

    def sqlite_values(self, n: int) -> list[Any]:
        return _with_nulls(self.values, self.values == NULL_DAY, _day_texts, None)


@dataclass(frozen=True)
class Bools(Column):
    """Booleans as int8: 1 true, 0 false, -1 NULL."""

    values: np.ndarray

    def copy_text(self, n: int) -> list[str]:
        return np.array(["f", "t", COPY_NULL], dtype=object)[self.values].tolist()

    def sqlite_values(self, n: int) -> list[Any]:
        return np.array([0, 1, None], dtype=object)[self.values].tolist()


@dataclass(frozen=True)
class Choice(Column):
    """Codes into a small table of values (None is NULL): statuses, kinds, subjects."""

    codes: np.ndarray
    labels: Sequence[str | None]

    def _pick(self, null: Any) -> list[Any]:
        table = np.array([null if label is None else label for label in self.labels], dtype=object)
        return table[self.codes].tolist()

    def copy_text(self, n: int) -> list[str]:
        return self._pick(COPY_NULL)

    def sqlite_values(self, n: int) -> list[Any]:
        return self._pick(None)


@dataclass(frozen=True)
class Texts(Column):
    """Free text, one string per row (generated vocabulary never holds tabs, newlines or backslashes)."""

    values: Sequence[str]

    def copy_text(self, n: int) -> Sequence[str]:
        return self.values

    def sqlite_values(self, n: int) -> Sequence[str]:
        return self.values


@dataclass(frozen=True)
class Const(Column):
    """The same value on every row: str, int, bool or None (NULL)."""

    value: str | int | bool | None

    def copy_text(self, n: int) -> Iterable[str]:
        if self.value is None:
            text = COPY_NULL
        elif isinstance(self.value, bool):
            text = "t" if self.value else "f"
        else:
            text = str(self.value)
        return itertools.repeat(text, n)

    def sqlite_values(self, n: int) -> Iterable[Any]:
        return itertools.repeat(self.value, n)


@dataclass(frozen=True)
class Batch:
    """A slice of one table's rows, column by column (every column has `size` values)."""

    size: int
    columns: dict[str, Column]

    def copy_lines(self) -> str:
        """The batch in PostgreSQL COPY text format, one line per row."""
        columns = [column.copy_text(self.size) for column in self.columns.values()]
        return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n" if self.size else ""

    def sqlite_rows(self) -> Iterable[tuple[Any, ...]]:
        return zip(*(column.sqlite_values(self.size) for column in self.columns.values()), strict=True)
