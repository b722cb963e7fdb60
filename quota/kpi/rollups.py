"""Rollups: leaf values pre-aggregated per owner and day (and year, month by month), so dashboards need not scan millions of rows.

Which leaves: counts and sums of a record's own fields, attributed to (and made visible by) the
record's `owner` - or its parent's, one link away, where the record is seen through that parent (a
campaign message is its campaign owner's) - with plain filters: no links to other tables, no "now",
no exists, no offset. Everything else - and groupings other than none, person and team - always
reads the records.

How they stay right:
- `quota kpi rollup` (or `rebuild()`) builds them from the records in a few INSERT ... SELECTs;
- every save and delete through the ORM refreshes the days and years it touched, after commit; if that
  refresh fails (the write is committed: it must not turn into an error), they are marked stale;
- the engine uses a leaf's rollups only while they are fresh: built in the current time zone, and no
  record of the source newer than the newest they include (rows inserted behind the ORM's back, by
  COPY or bulk_create, make them stale until the next rebuild). An UPDATE that bypasses the ORM
  (queryset.update) is not noticed: rebuild after one.
- a parent that changes owner (a campaign handed to someone else) or goes away marks its children's
  rollups stale: the records are read until the rebuild.
- stale rollups are rebuilt by a periodic task (`rebuild_stale()`, every few minutes), so none stays
  stale until someone runs `quota kpi rollup`.
So values stay live either way: rollups are a cache that writes keep current, and the records
are the fallback.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from functools import cache, partial, reduce
from operator import add, or_
from typing import Any

import numpy as np
import psycopg
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models, transaction
from django.db.models import (
    BigIntegerField,
    Case,
    DateField,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Max,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, Trunc
from django.db.models.signals import post_delete, post_init, post_save
from django.utils import timezone

from quota.kpi.definitions import FieldRef, Filter, Now, Op, Related
from quota.kpi.expressions import DateNumber, PackedDoubles
from quota.kpi.layout import GroupKey, Layout
from quota.kpi.models import ROLLUP_MONTHS
from quota.kpi.periods import Every, Span, company_zone, floor, shift
from quota.kpi.plans import Leaf, plan
from quota.kpi.queries import BEFORE, Batch, LeafQuery, Scope
from quota.kpi.sources import SOURCES, Kind, Source, get_source
from quota.kpi.table import NO_GROUP, LeafTable

logger = logging.getLogger(__name__)

DAY, YEAR = "d", "y"
GROUPINGS = {"none": None, "person": "owner_id", "team": "owner__team_id"}
ORDINAL_OF_1970 = dt.date(1970, 1, 1).toordinal()
_bypassed: ContextVar[bool] = ContextVar("kpi_rollups_bypassed", default=False)


def owner_link(source: Source) -> str | None:
    """How a source's records reach the owner rollups are kept by: "" (their own `owner`), the link to the
    parent whose owner they are seen through ("campaign"), or None: no rollups for the source."""
    path = getattr(source.model, "owner_path", "owner")
    if source.attribution != path:  # counted for someone other than who may see it: not one owner column
        return None
    if path == "owner":
        return ""
    link, _, last = path.rpartition("__")
    return link if last == "owner" and "__" not in link else None


def eligible(leaf: Leaf) -> bool:
    """Whether a leaf can be answered from rollups (see the module's docstring)."""
    source = get_source(leaf.source)
    if leaf.agg not in {"count", "sum"} or leaf.offset or owner_link(source) is None:
        return False
    if leaf.attribution != source.attribution or "__" in leaf.date:
        return False
    if leaf.value is not None:
        fields = leaf.value.split(":")[1:] if ":" in leaf.value else [leaf.value]
        if leaf.value in source.computed or any("__" in f for f in fields):
            return False
    for item in leaf.filters:
        if "__" in item.field or isinstance(item.value, Now | Related):
            return False
        if isinstance(item.value, FieldRef) and "__" in item.value.field:
            return False
    return True


def rollup_leaves(using: str = DEFAULT_DB_ALIAS) -> list[Leaf]:
    """The rolled-up leaves of every current KPI: one per key (a cumulative leaf is stored as its flow)."""
    from quota.kpi.models import Metric

    leaves = {leaf for metric in Metric.objects.using(using).current() for leaf in plan(metric.parsed).leaves if eligible(leaf)}
    flows = {leaf.key: replace(leaf, cumulative=False) for leaf in leaves}
    return [flows[key] for key in sorted(flows)]


def all_fresh(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether every leaf the current KPIs could read from rollups has fresh ones (else `rebuild()`)."""
    leaves = rollup_leaves(using)
    return fresh_leaves(leaves, using).keys() == {leaf.key for leaf in leaves}


def fresh_leaves(leaves: Iterable[Leaf], using: str) -> dict[str, int]:
    """The leaves whose rollups are fresh: their key and the id their rows carry (one query)."""
    from quota.kpi.models import RollupState

    leaves = list(leaves)
    newest = Case(
        *[When(source=key, then=Subquery(_newest(get_source(key), using))) for key in sorted({leaf.source for leaf in leaves})],
        output_field=BigIntegerField(),
    )
    rows = RollupState.objects.using(using).filter(leaf__in=[leaf.key for leaf in leaves]).annotate(newest=newest)
    zone = str(settings.TIME_ZONE)
    return {
        row["leaf"]: row["id"]
        for row in rows.values("id", "leaf", "max_pk", "time_zone", "newest")
        if row["time_zone"] == zone and row["max_pk"] >= 0 and (row["newest"] or 0) <= row["max_pk"]
    }


def _newest(source: Source, using: str) -> models.QuerySet:
    return source.model._default_manager.db_manager(using).order_by("-pk").values("pk")[:1]


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


# -- reading --------------------------------------------------------------------------------------------------


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
        if _bypassed.get() or self.by not in GROUPINGS or not any(eligible(leaf) for leaf in leaves):
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
        from quota.kpi.models import Rollup

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


def _fetch(rows: models.QuerySet, using: str, columns: int = 4, packed: int = 0) -> np.ndarray:
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


# -- building ---------------------------------------------------------------------------------------------------


def rebuild(*, using: str = DEFAULT_DB_ALIAS, leaves: Sequence[Leaf] | None = None) -> dict[str, int]:
    """Build the rollups of `leaves` (default: every eligible leaf of the current KPIs); rows per source.date field."""
    from quota.kpi.models import Rollup, RollupState

    leaves = rollup_leaves(using) if leaves is None else [leaf for leaf in leaves if eligible(leaf)]
    # A cumulative leaf and its flow share a key and rows: build each key once, as a flow.
    flows = {leaf.key: replace(leaf, cumulative=False) for leaf in leaves}
    by_date: dict[tuple[str, str], list[Leaf]] = defaultdict(list)
    for leaf in flows.values():
        by_date[(leaf.source, leaf.date)].append(leaf)
    written = {}
    for (source_key, date), group in sorted(by_date.items()):
        source = get_source(source_key)
        with transaction.atomic(using=using):
            # The newest record first: anything inserted while we aggregate makes these rollups stale, not wrong.
            newest = source.model._default_manager.db_manager(using).aggregate(newest=Max("pk"))["newest"] or 0
            RollupState.objects.using(using).filter(leaf__in=[leaf.key for leaf in group]).delete()  # and their rows
            states = RollupState.objects.using(using).bulk_create(
                RollupState(
                    leaf=leaf.key,
                    source=source_key,
                    date=date,
                    spec=_spec(leaf),
                    time_zone=str(settings.TIME_ZONE),
                    max_pk=newest,
                )
                for leaf in group
            )
            query = _builder(source, using, date)
            ids = [state.pk for state in states]
            _insert_days(query.per_bucket(group, None, None, _day(source, date)), ids, using)
            _insert_years(ids, using)
            written[f"{source_key}.{date}"] = Rollup.objects.using(using).filter(state_id__in=ids).count()
    _vacuum(using)
    return written


def stale_leaves(using: str = DEFAULT_DB_ALIAS) -> list[Leaf]:
    """The current KPIs' leaves whose rollups were built but are stale now (never-built ones nothing reads)."""
    from quota.kpi.models import RollupState

    built = set(RollupState.objects.using(using).values_list("leaf", flat=True))
    leaves = [leaf for leaf in rollup_leaves(using) if leaf.key in built]
    fresh = fresh_leaves(leaves, using) if leaves else {}
    return [leaf for leaf in leaves if leaf.key not in fresh]


def rebuild_stale(*, using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Rebuild only the stale rollups (the periodic task); rows per source.date field, empty when all are fresh."""
    leaves = stale_leaves(using)
    return rebuild(using=using, leaves=leaves) if leaves else {}


def drop(*, using: str = DEFAULT_DB_ALIAS) -> None:
    from quota.kpi.models import RollupState

    RollupState.objects.using(using).all().delete()  # rows go with their states


def _vacuum(using: str) -> None:
    """Fresh statistics and a visibility map, so PostgreSQL reads rollups with index-only scans from the start."""
    from quota.kpi.models import Rollup

    connection = connections[using]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return  # VACUUM cannot run in a transaction; autovacuum catches up
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(Rollup._meta.db_table)}")


def _builder(source: Source, using: str, date: str) -> LeafQuery:
    """The records' query by person and day, grouped by the owner rollups are kept by (the record's or its parent's)."""
    batch = Batch(source.key, date, source.attribution, 0, False)
    return LeafQuery(batch, Layout(Every.DAY), "person", Scope(None, using, timezone.now()))


def _day(source: Source, date: str) -> Any:
    zone = company_zone() if source.field(date).kind == Kind.DATETIME else None
    return Trunc(date, "day", output_field=DateField(), tzinfo=zone)


COLUMNS = ("state_id", "grain", "bucket", "owner_id", "value")


def _insert_days(rows: models.QuerySet, state_ids: Sequence[int], using: str) -> None:
    """INSERT ... SELECT from the grouped query (a column `v<i>` per leaf): the rows never travel through Python."""
    from quota.kpi.models import Rollup

    connection = connections[using]
    quote = connection.ops.quote_name
    sql, params = rows.query.get_compiler(using).as_sql()
    selects: list[str] = []
    extra: list[Any] = []
    for index, state in enumerate(state_ids):
        value = quote(f"v{index}")
        selects.append(f"SELECT %s, %s, {quote('_bucket')}, {quote('_group')}, {value} FROM rollup_rows WHERE {value} <> 0")
        extra += [state, DAY]
    columns = ", ".join(quote(c) for c in COLUMNS)
    statement = (
        f"WITH rollup_rows AS ({sql}) INSERT INTO {quote(Rollup._meta.db_table)} ({columns}) {' UNION ALL '.join(selects)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, *extra])


def _insert_years(state_ids: Sequence[int], using: str, owner: Q | None = None, year: dt.date | None = None) -> None:
    """Year rows are the sums of the day rows, month by month and in all (of one owner and year, when refreshing)."""
    from quota.kpi.models import Rollup

    days = Rollup.objects.using(using).filter(grain=DAY, state_id__in=state_ids)
    if owner is not None and year is not None:
        days = days.filter(owner, bucket__gte=year, bucket__lt=shift(year, Every.YEAR, 1))
    months = {
        f"_{name}": Coalesce(Sum("value", filter=Q(bucket__month=number)), Value(0.0))
        for number, name in enumerate(ROLLUP_MONTHS, 1)
    }
    rows = (
        days.annotate(_year=Trunc("bucket", "year", output_field=DateField()))
        .values("state_id", "_year", "owner_id")
        .annotate(_value=Sum("value"), **months)
        .annotate(_months=PackedDoubles(*(F(name) for name in months)))
        .order_by()
    )
    connection = connections[using]
    quote = connection.ops.quote_name
    sql, params = rows.query.get_compiler(using).as_sql()
    columns = ", ".join(quote(c) for c in (*COLUMNS, *ROLLUP_MONTHS, "months"))
    selected = ", ".join(quote(c) for c in ("_year", "owner_id", "_value", *(f"_{name}" for name in ROLLUP_MONTHS), "_months"))
    statement = (
        f"INSERT INTO {quote(Rollup._meta.db_table)} ({columns}) "
        f"SELECT {quote('state_id')}, %s, {selected} FROM ({sql}) year_rows"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [YEAR, *params])


def _spec(leaf: Leaf) -> dict[str, Any]:
    filters = [
        [f.field, f.op.value, {"field": f.value.field} if isinstance(f.value, FieldRef) else f.value] for f in leaf.filters
    ]
    return {"source": leaf.source, "date": leaf.date, "agg": leaf.agg, "value": leaf.value, "filters": filters}


def _leaf(spec: dict[str, Any]) -> Leaf:
    def value(raw: Any) -> Any:
        if isinstance(raw, dict):
            return FieldRef(raw["field"])
        return tuple(raw) if isinstance(raw, list) else raw

    filters = tuple(Filter(name, Op(op), value(raw)) for name, op, raw in spec["filters"])
    return Leaf(spec["source"], spec["date"], get_source(spec["source"]).attribution, spec["agg"], spec["value"], filters)


# -- keeping them current ---------------------------------------------------------------------------------------

_ORIGINAL = "_kpi_rollup_original"


def connect() -> None:
    """Watch every model rollups can be built from (called from the app's ready())."""
    from django.contrib.auth import get_user_model

    for source in SOURCES.values():
        link = owner_link(source)
        if link is None:
            continue
        uid = f"kpi-rollups-{source.key}"
        post_init.connect(_remember, sender=source.model, dispatch_uid=uid)
        post_save.connect(partial(_changed, source.key), sender=source.model, weak=False, dispatch_uid=uid)
        post_delete.connect(partial(_changed, source.key), sender=source.model, weak=False, dispatch_uid=uid)
        if link:  # the parent's owner is the records': a parent handed over or deleted moves them all
            parent = source.model._meta.get_field(link).related_model
            post_init.connect(_remember_parent_owner, sender=parent, dispatch_uid=f"{uid}-parent")
            post_save.connect(partial(_parent_changed, source.key), sender=parent, weak=False, dispatch_uid=f"{uid}-parent")
            post_delete.connect(partial(_parent_changed, source.key), sender=parent, weak=False, dispatch_uid=f"{uid}-parent")
    post_delete.connect(_owner_deleted, sender=get_user_model(), dispatch_uid="kpi-rollups-owner")


@cache
def _owner_column(model: type[models.Model]) -> str:
    """The column that says whose a record is: its owner's id, or its parent's id (whose owner it is seen through)."""
    path = getattr(model, "owner_path", "owner")
    if path == "owner":
        return "owner_id"
    link = model._meta.get_field(path.split("__")[0])
    assert isinstance(link, models.ForeignKey)
    return link.attname


@cache
def _watched_fields(model: type[models.Model]) -> list[str]:
    dates = [f.attname for f in model._meta.concrete_fields if f.get_internal_type() in {"DateField", "DateTimeField"}]
    return [*dates, _owner_column(model)]


_PARENT_OWNER = "_kpi_rollup_parent_owner"


def _remember_parent_owner(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    instance.__dict__[_PARENT_OWNER] = instance.__dict__.get("owner_id", _ORIGINAL)


def _parent_changed(source_key: str, sender: type[models.Model], instance: models.Model, using: str, **kwargs: Any) -> None:
    """A parent deleted, or saved with another owner (or one not loaded), leaves its children's rollups stale."""
    before, after = instance.__dict__.get(_PARENT_OWNER, _ORIGINAL), instance.__dict__.get("owner_id", _ORIGINAL)
    instance.__dict__[_PARENT_OWNER] = after
    if kwargs.get("created") or ("created" in kwargs and before == after != _ORIGINAL):
        return  # a new parent has no children yet; an unchanged owner moves nothing
    transaction.on_commit(partial(mark_stale, [source_key], using=using), using=using, robust=True)


def _remember(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    """What placed the record before any change: its dates and owner (never loading deferred fields)."""
    instance.__dict__[_ORIGINAL] = {name: instance.__dict__.get(name, _ORIGINAL) for name in _watched_fields(sender)}


def _changed(source_key: str, sender: type[models.Model], instance: models.Model, using: str, **kwargs: Any) -> None:
    loaded = instance.__dict__.get(_ORIGINAL, {})
    saved = {name: instance.__dict__.get(name, _ORIGINAL) for name in _watched_fields(sender)}
    instance.__dict__[_ORIGINAL] = saved
    deleted = "created" not in kwargs  # post_delete
    refresh_later = partial(_refresh_safely, source_key, sender, instance.pk, [loaded, saved], deleted, using)
    transaction.on_commit(refresh_later, using=using, robust=True)


def _owner_deleted(sender: Any, instance: Any, using: str, **kwargs: Any) -> None:
    from quota.kpi.models import Rollup

    # The records' owner becomes empty (SET_NULL, without signals): so does their rollups'.
    Rollup.objects.using(using).filter(owner_id=instance.pk).update(owner=None)


def _local_day(value: dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value, company_zone()).date() if timezone.is_aware(value) else value.date()
    return value


def _owners(model: type[models.Model], versions: list[dict[str, Any]], using: str) -> set[GroupKey] | None:
    """The owners of a record's versions: their own, or their parents' as stored now (None: a parent is gone)."""
    column = _owner_column(model)
    ids = {version[column] for version in versions}
    if column == "owner_id":
        return ids
    parent: Any = model._meta.get_field(column).related_model
    owners = dict(parent._default_manager.db_manager(using).filter(pk__in=ids).values_list("pk", "owner_id"))
    return None if owners.keys() != ids else set(owners.values())


def _placements(versions: list[dict[str, Any]], owners: set[GroupKey]) -> set[tuple[str, dt.date, GroupKey]]:
    """Every (date field, local day, owner) a record may have counted in, before or after the change.

    An instance can be stale (loaded before someone else's change, then saved with update_fields),
    so its dates and owner as loaded, as saved and as stored are all combined.
    """
    touched = set()
    for name in versions[0]:  # the owner column holds no dates: it places nothing itself
        for day in {_local_day(v[name]) for v in versions if isinstance(v[name], dt.date)}:
            touched |= {(name, day, owner) for owner in owners}
    return touched


def _refresh_safely(
    source_key: str, model: type[models.Model], pk: Any, versions: list[dict[str, Any]], deleted: bool, using: str
) -> None:
    from quota.kpi.models import RollupState

    states = RollupState.objects.using(using).filter(source=source_key)
    try:
        if not states.exists():
            return
        if not deleted:
            stored = model._default_manager.db_manager(using).filter(pk=pk).values(*_watched_fields(model)).first()
            versions = [*versions, *([stored] if stored else [])]
        if any(_ORIGINAL in version.values() for version in versions):
            # A field was deferred when the record was loaded: where it counted before is unknown.
            mark_stale([source_key], using=using)
            return
        owners = _owners(model, versions, using)
        if owners is None:  # a parent deleted with it: whose it was is gone (its deletion marked them stale)
            mark_stale([source_key], using=using)
            return
        refresh(source_key, _placements(versions, owners), pk, using=using)
    except Exception:  # the write is committed; stale rollups must not be read
        logger.exception("KPI rollups of %s could not be refreshed; marked stale until the scheduled rebuild", source_key)
        mark_stale([source_key], using=using)


def mark_stale(sources: Sequence[str], *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Make the engine read the records for `sources` until their rollups are rebuilt; never raises.

    Called after a commit, often because the database connection broke (a connection killed under a
    request): the mark is tried again once on a new connection, since an unmarked stale rollup is
    read as if it were right.
    """
    from quota.kpi.models import RollupState

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


def refresh(
    source_key: str, touched: Iterable[tuple[str, dt.date, GroupKey]], pk: Any = None, *, using: str = DEFAULT_DB_ALIAS
) -> None:
    """Recompute the day and year rows of (date field, local day, owner) for the source's rolled-up leaves."""
    from quota.kpi.models import Rollup, RollupState

    with transaction.atomic(using=using):
        # Locking the states serialises refreshes of one source: two interleaved ones would double rows.
        states = list(RollupState.objects.using(using).select_for_update().filter(source=source_key).order_by("pk"))
        if not states:
            return
        source = get_source(source_key)
        by_date: dict[str, list[Any]] = defaultdict(list)
        for state in states:
            by_date[state.date].append(state)
        for date, day, owner in sorted(touched, key=repr):
            if date not in by_date:
                continue
            ids, leaves = [s.pk for s in by_date[date]], [_leaf(s.spec) for s in by_date[date]]
            whose = Q(owner_id=owner) if owner is not None else Q(owner_id__isnull=True)
            year = floor(day, Every.YEAR)
            Rollup.objects.using(using).filter(whose, state_id__in=ids).filter(
                Q(grain=DAY, bucket=day) | Q(grain=YEAR, bucket=year)
            ).delete()
            query = _builder(source, using, date)
            records = Q(**{source.attribution: owner}) if owner is not None else Q(**{f"{source.attribution}__isnull": True})
            rows = query.per_bucket(leaves, day, day + dt.timedelta(days=1), _day(source, date), where=records)
            Rollup.objects.using(using).bulk_create(
                Rollup(state_id=state, grain=DAY, bucket=day, owner_id=owner, value=row[f"v{index}"])
                for row in rows
                for index, state in enumerate(ids)
                if row[f"v{index}"]
            )
            _insert_years(ids, using, owner=whose, year=year)
        if pk is not None and isinstance(pk, int):
            RollupState.objects.using(using).filter(source=source_key, max_pk__gte=0).update(
                max_pk=Greatest(F("max_pk"), Value(pk))
            )
