"""Rules the activity, order and invoice targets share about a row on its way to a record."""

from __future__ import annotations

from typing import Any

from quota.imports.targets.base import Outcome, RowWork


def is_new(work: RowWork) -> bool:
    """Whether the row makes a record (rather than matching one in the database or earlier in the file)."""
    anchor = work.duplicate_of
    return work.existing is None and (anchor is None or anchor.outcome == Outcome.REJECTED)


def is_left_alone(work: RowWork, on_duplicate: str) -> bool:
    """A duplicate skipped as it is: no record is written, so no rule applies."""
    return on_duplicate == "skip" and not is_new(work)


class Derived:
    """Model fields a target fills from another field of the row (seconds from a duration in minutes).

    A problem with the filled field (the model's rule, say) then names the column the value came from.
    The rows of a step share one dict of sources; it is aliased once per step, not copied per row.
    """

    def __init__(self) -> None:
        self._aliased: dict[tuple[int, str, str], dict[str, str]] = {}

    def fill(self, work: RowWork, name: str, source: str, value: Any) -> None:
        work.values[name] = value
        work.raw[name] = work.raw.get(source, "")
        sources = work.sources
        if source not in sources or name in sources:
            return
        key = (id(sources), name, source)  # the step's dict, or one aliased from it (kept here, so its id stays its own)
        if key not in self._aliased:
            self._aliased[key] = {**sources, name: sources[source]}
        work.sources = self._aliased[key]
