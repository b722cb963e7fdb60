"""Value formatting for COPY text and SQLite: what the database (and Django's own adapters) expect."""

import datetime as dt

import numpy as np

from quota.seed import vocabulary
from quota.seed.columns import NULL_DAY, NULL_TIME, Batch, Bools, Choice, Const, Dates, Fixed, Ints, Texts, Times

MOMENTS = [dt.datetime(2024, 2, 29, 23, 59, 59, tzinfo=dt.UTC), dt.datetime(2025, 3, 1, 8, 5, 0, tzinfo=dt.UTC)]


def test_times_match_djangos_sqlite_text_and_carry_utc_for_postgresql():
    seconds = np.array([int(m.timestamp()) for m in MOMENTS] + [NULL_TIME])
    # Django stores aware datetimes on SQLite as str() of the naive UTC value; lookups compare that text.
    assert Times(seconds).sqlite_values(3) == [str(m.replace(tzinfo=None)) for m in MOMENTS] + [None]
    assert Times(seconds).copy_text(3) == ["2024-02-29 23:59:59+00", "2025-03-01 08:05:00+00", "\\N"]


def test_money_dates_booleans_and_nullable_ids():
    assert Fixed(np.array([0, 5, 123456])).copy_text(3) == ["0.00", "0.05", "1234.56"]
    assert Fixed(np.array([123_456_789]), places=8).sqlite_values(1) == ["1.23456789"]
    assert Fixed(np.array([2500]), places=3).copy_text(1) == ["2.500"]
    assert Dates(np.array([0, 19_783, NULL_DAY])).copy_text(3) == ["1970-01-01", "2024-03-01", "\\N"]
    assert Bools(np.array([1, 0, -1], dtype=np.int8)).copy_text(3) == ["t", "f", "\\N"]
    assert Bools(np.array([1, 0, -1], dtype=np.int8)).sqlite_values(3) == [1, 0, None]
    assert Ints(np.array([3, -1]), nullable=True).copy_text(2) == ["3", "\\N"]
    assert Choice(np.array([1, 0]), ["a", None]).sqlite_values(2) == [None, "a"]


def test_a_batch_becomes_copy_lines_and_sqlite_rows():
    batch = Batch(2, {"id": Ints(np.array([1, 2])), "name": Texts(["Ann", "Bo"]), "custom": Const("{}"), "x": Const(None)})
    assert batch.copy_lines() == "1\tAnn\t{}\t\\N\n2\tBo\t{}\t\\N\n"
    assert list(batch.sqlite_rows()) == [(1, "Ann", "{}", None), (2, "Bo", "{}", None)]


def test_vocabulary_needs_no_copy_escaping():
    words = []
    for name in dir(vocabulary):
        if not name.isupper():  # the word lists are the module's constants
            continue
        stack = [getattr(vocabulary, name)]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                words.append(item)
            elif isinstance(item, tuple | list):
                stack.extend(item)
            elif isinstance(item, dict):
                stack.extend([*item.keys(), *item.values()])
    assert words and not [w for w in words if set(w) & {"\t", "\n", "\r", "\\"}]
