"""Reading rollups instead of the records, for the leaves whose rollups are fresh.

By period, days and weeks are summed from day rows, months, quarters and years unfolded from year rows
(one per leaf, owner and year, its months side by side); by window, whole months come from year rows and
the days of partial months from day rows. Rows come straight into numpy arrays: on PostgreSQL packed
into one bytea of doubles (`core.arrays.fetch_numbers`), on SQLite read as plain rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import reduce
from operator import add, or_
from typing import Any

import numpy as np
from django.db import models
from django.db.models import Case, DateField, ExpressionWrapper, F, FloatField, IntegerField, Q, Sum, Value, When
from django.db.models.functions import Coalesce, Trunc

from quota.core.arrays import fetch_numbers as _fetch
from quota.kpi.expressions import DateNumber
from quota.kpi.layout import Layout
from quota.kpi.models import ROLLUP_MONTHS, Rollup
from quota.kpi.periods import Every, Span, floor, shift
from quota.kpi.plans import Leaf
from quota.kpi.queries import BEFORE, Batch, Scope
from quota.kpi.rollups.eligibility import DAY, GROUPINGS, YEAR, eligible
from quota.kpi.rollups.freshness import fresh_leaves
from quota.kpi.table import NO_GROUP, LeafTable

ORDINAL_OF_1970 = dt.date(1970, 1, 1).toordinal()
_bypassed: ContextVar[bool] = ContextVar("kpi_rollups_bypassed", default=False)


def is_bypassed() -> bool:
    return _bypassed.get()


@contextmanager
def bypassed() -> Iterator[None]:
    """Read the records even where rollups could answer (to compare the two, or to time the records)."""
    token = _bypassed.set(True)
    try:
        yield
    finally:
        _bypassed.reset(token)


@dataclass
class Reader:
    """Takes the leaves rollups can answer for one evaluation, then answers them in one query per kind (flow, cumulative)."""

    layout: Layout
    by: str
    scope: Scope
    candidates: Sequence[Leaf]
    _fresh: dict[str, int] | None = None
    _taken: dict[bool, list[Leaf]] = field(default_factory=lambda: defaultdict(list))

    def take(self, batch: Batch, leaves: Sequence[Leaf]) -> list[Leaf]:
        """Take the leaves of `batch` that fresh rollups can answer; return the others (for the records' query)."""
        if is_bypassed() or self.by not in GROUPINGS or not any(eligible(leaf) for leaf in leaves):
            return list(leaves)
        if self._fresh is None:  # one query, for every leaf of the evaluation, on the first batch that could use rollups
            self._fresh = fresh_leaves([leaf for leaf in self.candidates if eligible(leaf)], self.scope.using)
        taken = [leaf for leaf in leaves if leaf.key in self._fresh and eligible(leaf)]
        if taken:
            self._taken[batch.cumulative].extend(taken)
        return [leaf for leaf in leaves if leaf not in taken]

    def read(self, table: LeafTable) -> None:
        for cumulative, leaves in self._taken.items():
            if self.layout.by_period:
                self._by_period(leaves, cumulative, table)
            else:
                self._by_window(leaves, cumulative, table)

    def _rows(self, leaves: Sequence[Leaf], grain: str) -> models.QuerySet:

        assert self._fresh is not None
        rows = Rollup.objects.db_manager(self.scope.using).all()
        if self.scope.user is not None:
            rows = rows.visible_to(self.scope.user)  # owners decide visibility, as on the records
        rows = rows.filter(grain=grain, state_id__in=[self._fresh[leaf.key] for leaf in leaves])
        group = GROUPINGS[self.by]
        owner = Coalesce(F(group), Value(NO_GROUP)) if group else Value(NO_GROUP)
        return rows.annotate(_owner=owner)

    def _by_period(self, leaves: Sequence[Leaf], cumulative: bool, table: LeafTable) -> None:
        every = self.layout.every
        first, end = min(self.layout.buckets), shift(max(self.layout.buckets), every, 1)
        if every in {Every.DAY, Every.WEEK}:
            self._add(table, leaves, self._days_by_period(leaves, cumulative, first, end))
        else:
            self._months_by_period(leaves, cumulative, first, end, table)

    def _days_by_period(self, leaves: Sequence[Leaf], cumulative: bool, first: dt.date, end: dt.date) -> np.ndarray:
        every = self.layout.every
        exact = every == Every.DAY  # rows already are the periods asked for
        bucket: Any = F("bucket") if exact else Trunc("bucket", every.value, output_field=DateField())
        number: Any = _day_number(bucket)
        rows = self._rows(leaves, DAY).filter(bucket__lt=end)
        if cumulative:
            # Everything before the range counts from its first period on: the table adds it up there.
            number = Case(When(bucket__lt=first, then=Value(BEFORE.toordinal())), default=number, output_field=IntegerField())
        else:
            rows = rows.filter(bucket__gte=first)
        rows = rows.annotate(_day=number)
        if self.by == "person" and exact:
            # Rows already are one leaf, day and owner: a GROUP BY would only sort them. The table adds up.
            result = rows.values_list("state_id", "_owner", "_day", "value")
        else:
            result = rows.values_list("state_id", "_owner", "_day").annotate(_value=Sum("value"))
        return _fetch(result.order_by(), self.scope.using)

    def _months_by_period(self, leaves: Sequence[Leaf], cumulative: bool, first: dt.date, end: dt.date, table: LeafTable) -> None:
        """Months, quarters and years from year rows: one row per leaf, owner and year, unfolded here into its months."""
        rows = self._rows(leaves, YEAR).filter(bucket__lt=end)
        if not cumulative:  # a cumulative leaf also counts every year before the range (in its first period)
            rows = rows.filter(bucket__gte=floor(first, Every.YEAR))
        rows = rows.annotate(_year=_day_number(F("bucket")))  # a number, not EXTRACT's numeric: that costs to send
        if self.by == "person":
            # Rows already are one leaf, year and owner: a GROUP BY would only sort them. Their months come packed.
            wanted = rows.values_list("state_id", "_owner", "_year", "months")
            wide = _fetch(wanted.order_by(), self.scope.using, columns=4, packed=len(ROLLUP_MONTHS))
        else:
            sums = {f"_{name}": Sum(name) for name in ROLLUP_MONTHS}
            wanted = rows.values_list("state_id", "_owner", "_year").annotate(**sums)
            wide = _fetch(wanted.order_by(), self.scope.using, columns=3 + len(ROLLUP_MONTHS))
        # Rows (leaf, owner, year, 12 months) -> each month in its period (its first day as a day number).
        positions = _period_starts(wide[:, 2], self.layout.every)
        months = wide[:, 3:]
        keep = (months != 0) & (positions < end.toordinal())  # as day rows, a month with nothing is no row
        if not cumulative:
            keep &= positions >= first.toordinal()
        owners = np.broadcast_to(wide[:, 1:2], months.shape)
        for leaf, mine in self._rows_of_leaves(leaves, wide[:, 0]):
            kept = keep[mine]  # a 2-d mask flattens the three arrays alike, row by row
            table.add_arrays(leaf, positions[mine][kept], owners[mine][kept], months[mine][kept])

    def _by_window(self, leaves: Sequence[Leaf], cumulative: bool, table: LeafTable) -> None:
        """Each window's sum: its whole months from year rows, the days of its partial months from day rows.

        A window to date (this month so far, a cumulative one: everything up to tomorrow) then reads a few
        thousand rows, not every day row of its range. A partial month is read as the month less its other
        days where those are fewer (this month so far: the month less the days still to come). Both parts
        are one query (UNION ALL of a grouped read per grain); the table adds up the two rows a window and
        owner may get.
        """
        windows: Sequence[Span] = self.layout.windows
        parts = [_window_parts(window, cumulative) for window in windows]
        reads = []
        month_ranges = [[] if months is None else [(*months, 1)] for months, _plus, _minus in parts]
        if any(month_ranges):
            reads.append(self._window_sums(leaves, YEAR, month_ranges))
        day_ranges = [[*((*r, 1) for r in plus), *((*r, -1) for r in minus)] for _months, plus, minus in parts]
        if any(day_ranges):
            reads.append(self._window_sums(leaves, DAY, day_ranges))
        if not reads:
            return
        result = reads[0] if len(reads) == 1 else reads[0].union(reads[1], all=True)
        wide = _fetch(result, self.scope.using, columns=2 + len(windows))
        # One row per (leaf, owner) with a column per window: unfold to (leaf, owner, window, value).
        count = len(windows)
        data = np.column_stack(
            [
                np.repeat(wide[:, 0], count),
                np.repeat(wide[:, 1], count),
                np.tile(np.arange(count), len(wide)),
                wide[:, 2:].ravel(),
            ]
        )
        self._add(table, leaves, data)

    def _window_sums(self, leaves: Sequence[Leaf], grain: str, per_window: Sequence[list[SignedRange]]) -> models.QuerySet:
        """Rows of one grain summed per leaf and owner, a column per window over the ranges it adds or takes away.

        Per window a list of (first, end, sign) ranges (first None: from the beginning): for year rows at most
        one, of whole months, which the sum takes from the month columns.
        """
        taken = [item for items in per_window for item in items]
        rows = self._rows(leaves, grain).filter(bucket__lt=max(end for _first, end, _sign in taken))
        if all(first is not None for first, _end, _sign in taken):
            earliest = min(first for first, _end, _sign in taken if first is not None)
            rows = rows.filter(bucket__gte=floor(earliest, Every.YEAR) if grain == YEAR else earliest)
        sums: dict[str, Any] = {}
        for index, items in enumerate(per_window):
            if grain == YEAR:
                sums[f"w{index}"] = Coalesce(Sum(_months_of(*items[0][:2])), Value(0.0)) if items else Value(0.0)
                continue
            added = [_bucket_range(first, end) for first, end, sign in items if sign > 0]
            removed = [_bucket_range(first, end) for first, end, sign in items if sign < 0]
            total: Any = Coalesce(Sum("value", filter=reduce(or_, added)), Value(0.0)) if added else Value(0.0)
            if removed:
                total = total - Coalesce(Sum("value", filter=reduce(or_, removed)), Value(0.0))
            sums[f"w{index}"] = total
        return rows.values_list("state_id", "_owner").annotate(**sums).order_by()

    def _add(self, table: LeafTable, leaves: Sequence[Leaf], data: np.ndarray) -> None:
        """Rows of (state id, owner, bucket, value) into the table, leaf by leaf."""
        for leaf, rows in self._rows_of_leaves(leaves, data[:, 0]):
            mine = data[rows]
            table.add_arrays(leaf, mine[:, 2], mine[:, 1], mine[:, 3])

    def _rows_of_leaves(self, leaves: Sequence[Leaf], states: np.ndarray) -> Iterator[tuple[Leaf, np.ndarray]]:
        """Each leaf and the indexes of its rows, given each row's state id."""
        assert self._fresh is not None
        # Sorted by state once, each leaf's rows are one slice (not a scan of every row per leaf).
        order = np.argsort(states, kind="stable")
        ordered = states[order]
        for leaf in leaves:
            state = self._fresh[leaf.key]
            first, end = np.searchsorted(ordered, state, side="left"), np.searchsorted(ordered, state, side="right")
            yield leaf, order[first:end]


DayRange = tuple[dt.date | None, dt.date]  # first day (None: from the beginning) to the end, excluded
SignedRange = tuple[dt.date | None, dt.date, int]  # a DayRange and whether its sum is added (1) or taken away (-1)


def _window_parts(window: Span, cumulative: bool) -> tuple[DayRange | None, list[DayRange], list[DayRange]]:
    """A window as whole months (None if none), days to add and days to take away.

    A partial month is its days, or the whole month less its other days where those are fewer. A cumulative
    window counts everything before its end: its months start at the beginning.
    """
    start, end = (None if cumulative else window.start), window.end
    tail_month = floor(end, Every.MONTH)  # the month the window ends in (its days before `end`)
    plus: list[DayRange] = []
    minus: list[DayRange] = []
    if start is not None and floor(start, Every.MONTH) == tail_month:  # within one month
        month, next_month = tail_month, shift(tail_month, Every.MONTH, 1)
        if start >= end:
            return None, [], []
        others: list[DayRange] = [(first, last) for first, last in ((month, start), (end, next_month)) if first < last]
        if _days(others) < (end - start).days:
            return (month, next_month), [], others
        return None, [(start, end)], []
    months_first: dt.date | None = None
    if start is not None:
        head_month = floor(start, Every.MONTH)
        months_first = start if start == head_month else shift(head_month, Every.MONTH, 1)
        if start != head_month:  # the days of the month it starts in
            if (start - head_month).days < (months_first - start).days:
                minus.append((head_month, start))
                months_first = head_month
            else:
                plus.append((start, months_first))
    months_end = tail_month
    if tail_month < end:  # the days of the month it ends in
        next_month = shift(tail_month, Every.MONTH, 1)
        if (next_month - end).days < (end - tail_month).days:
            minus.append((end, next_month))
            months_end = next_month
        else:
            plus.append((tail_month, end))
    months = (months_first, months_end) if months_first is None or months_first < months_end else None
    return months, plus, minus


def _days(ranges: Sequence[DayRange]) -> int:
    return sum((last - first).days for first, last in ranges if first is not None)


def _months_of(first: dt.date | None, end: dt.date) -> Case:
    """A year row's share of the whole months first..end (month starts; end excluded, first None: from the beginning)."""

    def columns(low: int, high: int) -> Any:  # months low..high of the row's year, both included
        return reduce(add, (F(name) for name in ROLLUP_MONTHS[low - 1 : high]))

    last_year = dt.date(end.year, 1, 1)
    whens = []
    if first is not None and first.year == end.year:
        whens.append(When(bucket=last_year, then=columns(first.month, end.month - 1)))
    else:
        whole_years = Q(bucket__lt=last_year)
        if first is not None:
            first_year = dt.date(first.year, 1, 1)
            whens.append(When(bucket=first_year, then=columns(first.month, 12)))
            whole_years &= Q(bucket__gt=first_year)
        whens.append(When(whole_years, then=F("value")))  # a year row's value is its total
        if end.month > 1:
            whens.append(When(bucket=last_year, then=columns(1, end.month - 1)))
    return Case(*whens, default=Value(0.0), output_field=FloatField())


def _day_number(day: Any) -> ExpressionWrapper:
    """Day numbers as date.toordinal() gives them, so rows are placed in periods without making a date per row."""
    return ExpressionWrapper(DateNumber(day) + Value(ORDINAL_OF_1970), output_field=IntegerField())


def _period_starts(years: np.ndarray, every: Every) -> np.ndarray:
    """For each year (the day number of its first day), the day number of the first day of each month's period."""
    distinct, index = np.unique(years, return_inverse=True)
    first_month = {Every.MONTH: lambda m: m, Every.QUARTER: lambda m: m - (m - 1) % 3, Every.YEAR: lambda m: 1}[every]
    starts = np.array(
        [
            [dt.date.fromordinal(int(day)).replace(month=first_month(month)).toordinal() for month in range(1, 13)]
            for day in distinct
        ],
        dtype=np.int64,
    ).reshape(-1, 12)
    return starts[index]


def _bucket_range(first: dt.date | None, end: dt.date) -> Q:
    return Q(bucket__lt=end) if first is None else Q(bucket__gte=first, bucket__lt=end)
