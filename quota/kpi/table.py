"""Leaf values as dense arrays: a row per bucket the evaluation needs, a column per group.

Queries (records or rollups) add their grouped rows; `finish()` lays them out, running totals
for cumulative leaves included, so formulas are computed for every period and group at once with
numpy (a director's dashboard of 15 KPIs by 200 people over 25 months is ~75,000 values: one
Python operation each would cost more than the queries).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from quota.kpi.dimensions import Values
from quota.kpi.layout import GroupKey, Layout
from quota.kpi.plans import Leaf

NO_GROUP = -1  # None (unassigned, or no grouping) as an integer id


class LeafTable:
    def __init__(self, layout: Layout, groups: Iterable[GroupKey] = ()) -> None:
        self.layout = layout
        if layout.by_period:
            self.bucket_keys: list[dt.date | int] = sorted(layout.buckets)
            self._ordinals = np.array([d.toordinal() for d in self.bucket_keys], dtype=np.int64)  # type: ignore[union-attr]
        else:
            self.bucket_keys = list(range(len(layout.windows)))
        self._row_of = {key: index for index, key in enumerate(self.bucket_keys)}
        self._rows: dict[Leaf, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = defaultdict(list)
        self._wanted = [NO_GROUP if g is None else g for g in groups]
        self._arrays: dict[Leaf, np.ndarray] = {}
        self._present: dict[Leaf, np.ndarray] = {}
        self.groups: list[GroupKey] = []
        self.values = Values()  # grouped by text or bands: what each group's code stands for

    def add(
        self, leaf: Leaf, buckets: Sequence[dt.date | int], groups: Sequence[GroupKey], values: Sequence[float | None]
    ) -> None:
        """Grouped rows of one leaf: bucket (a period's first day or a window's index), group, value."""
        if self.layout.by_period:
            positions = np.array([b.toordinal() for b in buckets], dtype=np.int64)  # type: ignore[union-attr]
        else:
            positions = np.array(buckets, dtype=np.int64)
        ids = np.array([NO_GROUP if g is None else g for g in groups], dtype=np.int64)
        numbers = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
        self.add_arrays(leaf, positions, ids, numbers)

    def add_arrays(self, leaf: Leaf, positions: np.ndarray, groups: np.ndarray, values: np.ndarray) -> None:
        """The same as arrays: day numbers (date.toordinal()) or window indexes, group ids (NO_GROUP for None), values."""
        self._rows[leaf].append((positions.astype(np.int64), groups.astype(np.int64), values.astype(np.float64)))

    def finish(self, leaves: Iterable[Leaf]) -> None:
        """Lay every leaf out over (bucket, group); leaves without rows are all 0 (None for a top share)."""
        seen = [ids for parts in self._rows.values() for _, ids, _ in parts]
        column_of, ids = _columns(np.concatenate([np.array(self._wanted, dtype=np.int64), *seen]))
        self.groups = [None if g == NO_GROUP else int(g) for g in ids.tolist()]
        shape = (len(self.bucket_keys), len(ids))
        for leaf in leaves:
            # By period, cumulative leaves come as flows per bucket and are summed up here; windows
            # already hold everything up to their end.
            running = leaf.cumulative and self.layout.by_period
            array = np.full(shape, np.nan if leaf.agg == "top_share" else 0.0)
            present = np.zeros(len(ids), dtype=bool)
            for positions, groups, numbers in self._rows.get(leaf, []):
                columns = column_of(groups)
                rows, keep = self._place(positions, running)
                present[columns] = True
                if leaf.agg == "top_share":  # one ranked row per bucket and group: a share is not added up
                    array[rows[keep], columns[keep]] = numbers[keep]
                else:  # several rows can fall in one cell (rollup days or months of a longer period)
                    # bincount adds up rows per cell as np.add.at does, an order of magnitude faster.
                    cells = rows[keep] * shape[1] + columns[keep]
                    array += np.bincount(cells, weights=numbers[keep], minlength=array.size).reshape(shape)
            if running:
                array = np.cumsum(array, axis=0)
            self._arrays[leaf] = array
            self._present[leaf] = present

    def _place(self, positions: np.ndarray, cumulative: bool) -> tuple[np.ndarray, np.ndarray]:
        """Row index of each bucket, and which rows the evaluation needs."""
        if not self.layout.by_period:
            return positions, positions < len(self.bucket_keys)
        rows = np.searchsorted(self._ordinals, positions, side="left")
        inside = rows < len(self._ordinals)
        if cumulative:
            # Everything up to a needed period counts in it: rows between needed periods go to the next one.
            return rows, inside
        exact = np.zeros(len(rows), dtype=bool)
        exact[inside] = self._ordinals[rows[inside]] == positions[inside]
        return rows, exact

    @classmethod
    def united(cls, layout: Layout, parts: Sequence[LeafTable]) -> LeafTable:
        """Finished tables of other leaves over one layout as one table: their groups united, in the same order
        (ascending ids, None first) that one table of all the leaves would have. Groups must be ids (person, team,
        none): the codes of other dimensions are the table's own."""
        table = cls(layout)
        ids = sorted({NO_GROUP if g is None else g for part in parts for g in part.groups})
        table.groups = [None if g == NO_GROUP else g for g in ids]
        column_of = {g: i for i, g in enumerate(table.groups)}
        shape = (len(table.bucket_keys), len(ids))
        for part in parts:
            columns = np.array([column_of[g] for g in part.groups], dtype=np.int64)
            for leaf, array in part._arrays.items():
                united = np.full(shape, np.nan if leaf.agg == "top_share" else 0.0)
                united[:, columns] = array
                present = np.zeros(len(ids), dtype=bool)
                present[columns] = part._present[leaf]
                table._arrays[leaf], table._present[leaf] = united, present
        return table

    def finished(self) -> LeafTable:
        """The table without the rows it was laid out from (what a cached copy needs: the arrays)."""
        self._rows = defaultdict(list)
        return self

    def array(self, leaf: Leaf) -> np.ndarray:
        return self._arrays[leaf]

    def present(self, leaf: Leaf) -> np.ndarray:
        """Which groups have records for this leaf (a group with none is not shown)."""
        return self._present[leaf]

    def row(self, bucket: dt.date | int) -> int | None:
        return self._row_of.get(bucket)


def _columns(groups: np.ndarray) -> tuple[Callable[[np.ndarray], np.ndarray], np.ndarray]:
    """The distinct group ids, sorted, and a function giving each row's column among them.

    Group ids are database ids (and NO_GROUP): where they are not too sparse, a lookup array indexed by id does
    both in one pass (tens of thousands of rollup rows per dashboard); otherwise sorting does.
    """
    if len(groups) == 0 or groups.max() - NO_GROUP > 4 * len(groups) + 100_000:
        ids = np.unique(groups)
        return (lambda rows: np.searchsorted(ids, rows)), ids
    seen = np.zeros(groups.max() - NO_GROUP + 1, dtype=bool)
    seen[groups - NO_GROUP] = True
    ids = np.flatnonzero(seen) + NO_GROUP
    lookup = np.cumsum(seen) - 1  # an id's column: how many distinct ids are below it
    return (lambda rows: lookup[rows - NO_GROUP]), ids
