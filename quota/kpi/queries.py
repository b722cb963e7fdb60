"""Run leaves as grouped SQL: one query per (source, date field, attribution, offset, cumulative) batch.

Two layouts. By periods (day ... year): rows are grouped by `Trunc(date)` in the company time
zone, so one query returns every period of the range, the previous periods and the same periods
last year; cumulative leaves lump everything before the range into one bucket. By windows (the
whole range, or targets' custom ranges): one filtered aggregate per window and leaf, since
windows may overlap. Both group by the person, team or dimension asked for, in the same query.

Everything is aggregated in the database (annotate/aggregate, filter=Q, Coalesce); Python only
reads the grouped rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache, reduce
from operator import and_, or_
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    Expression,
    F,
    FloatField,
    IntegerField,
    Max,
    Model,
    OuterRef,
    Q,
    QuerySet,
    RowRange,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber, Trunc
from django.utils import timezone

from quota.core.visibility import VisibleQuerySet
from quota.kpi.definitions import FieldRef, Filter, Now, Op, Related
from quota.kpi.dimensions import dimension
from quota.kpi.expressions import DaysBetween, EpochDays, OverWindows, WindowSum, period_number
from quota.kpi.layout import GroupKey, Layout
from quota.kpi.periods import Every, Span, company_zone, local_midnight, shift
from quota.kpi.plans import Leaf
from quota.kpi.sources import MONEY_OUTPUT, Kind, Source, get_source
from quota.kpi.table import LeafTable

# The bucket of everything dated before a range (cumulative leaves start from it).
BEFORE = dt.date.min


@dataclass(frozen=True)
class Batch:
    """Leaves that one grouped query computes together."""

    source: str
    date: str
    attribution: str
    offset: int
    cumulative: bool
    top_share: Leaf | None = None  # ranked leaves need a query of their own


def batch_of(leaf: Leaf) -> Batch:
    return Batch(
        leaf.source, leaf.date, leaf.attribution, leaf.offset, leaf.cumulative, leaf if leaf.agg == "top_share" else None
    )


def batches(leaves: Iterable[Leaf]) -> dict[Batch, list[Leaf]]:
    out: dict[Batch, list[Leaf]] = defaultdict(list)
    for leaf in sorted(set(leaves), key=lambda leaf: (leaf.key, leaf.cumulative)):
        out[batch_of(leaf)].append(leaf)
    return dict(out)


@dataclass
class Scope:
    """Whose records a query reads: `user` None is system work (commands, schedules) and reads everything."""

    user: Any
    using: str
    now: dt.datetime

    def queryset(self, source: Source) -> QuerySet:
        return self.rows(source.model)

    def rows(self, model: type[Model]) -> QuerySet:
        """The records of `model` the user may read: the main query, every `exists` and every link it reads through."""
        manager = model._default_manager.db_manager(self.using)
        if self.user is None:
            return manager.all()
        return manager.visible_to(self.user)  # type: ignore[attr-defined]


def run(batch: Batch, leaves: Sequence[Leaf], *, layout: Layout, by: str, scope: Scope, table: LeafTable) -> None:
    """Compute `leaves` (all of `batch`) for `layout`, grouped `by`, into `table`: one query."""
    query = LeafQuery(batch, layout, by, scope)
    if batch.top_share is not None:
        query.top_share(batch.top_share, table)
    elif layout.by_period:
        query.by_period(leaves, table)
    else:
        query.by_window(leaves, table)


class LeafQuery:
    """The grouped SQL of one batch of leaves, for one layout and grouping, over the records `scope` may read.

    `run()` uses it whole (by period, by window, a ranked top share into a table); the rollups build and
    refresh their day rows from `per_bucket()`, the grouped query itself (a row per bucket and group, a
    column `v<i>` per leaf), so both count a record the same way.
    """

    def __init__(self, batch: Batch, layout: Layout, by: str, scope: Scope) -> None:
        self.batch = batch
        self.layout = layout
        self.scope = scope
        self.source = get_source(batch.source)
        self.date = batch.date
        self.date_kind = self.source.field(batch.date).kind
        self.zone = company_zone() if self.date_kind == Kind.DATETIME else None
        self.dimension = None if by == "none" else dimension(self.source, by, batch.attribution)
        self.uses_period_number = False

    # -- bounds and buckets

    def in_range(self, start: dt.date | None, end: dt.date | None) -> Q:
        return in_range(self.source, self.date, start, end)

    def trunc(self) -> Expression:
        return Trunc(self.date, self.layout.every.value, output_field=DateField(), tzinfo=self.zone)

    def row_buckets(self) -> tuple[dt.date, dt.date]:
        """The first and the end of the row periods needed (an offset reads earlier periods)."""
        every, buckets = self.layout.every, self.layout.buckets
        first = shift(min(buckets), every, -self.batch.offset)
        end = shift(max(buckets), every, 1 - self.batch.offset)
        return first, end

    def row_windows(self) -> list[Span]:
        out = []
        for window in self.layout.windows:
            for _ in range(self.batch.offset):
                window = window.before()
            out.append(window)
        return out

    # -- filters

    def condition(self, filters: Iterable[Filter], source: Source, window: Span | None = None) -> Q:
        return reduce(and_, (self.filter(f, source, window) for f in filters), Q())

    def filter(self, item: Filter, source: Source, window: Span | None) -> Q:
        if item.dimension:
            paths = list(dimension(source, item.field).reads)
        else:
            paths = [item.field, item.value.field] if isinstance(item.value, FieldRef) else [item.field]
        # Outside the condition, so that a negated one (ne, not_in, not_exists) cannot read a hidden record either.
        return self.walls(source, paths) & self.bare_filter(item, source, window)

    def bare_filter(self, item: Filter, source: Source, window: Span | None) -> Q:
        if item.dimension:
            return dimension_condition(source, item)
        value = item.value
        if isinstance(value, FieldRef):
            value = F(value.field)
        elif isinstance(value, Now):
            value = self.scope.now
        elif isinstance(value, str) and item.op != Op.CONTAINS:
            value = _literal(source, item.field, value)
        name = item.field
        if item.op == Op.EQ:
            return Q(**{name: value})
        if item.op == Op.NE:
            return ~Q(**{name: value})
        if item.op in {Op.IN, Op.NOT_IN}:
            values = [_literal(source, name, v) if isinstance(v, str) else v for v in value]
            return Q(**{f"{name}__in": values}) if item.op == Op.IN else ~Q(**{f"{name}__in": values})
        if item.op == Op.CONTAINS:
            return Q(**{f"{name}__icontains": value})
        if item.op in {Op.EXISTS, Op.NOT_EXISTS}:
            exists = Q(Exists(self.related(name, value, window)))
            return exists if item.op == Op.EXISTS else ~exists
        return Q(**{f"{name}__{item.op.value}": value})

    def related(self, name: str, related: Related, window: Span | None) -> QuerySet:
        other = get_source(related.source)
        # Only records the user may read: an exists must not see what the main query cannot.
        rows = self.scope.queryset(other).filter(**{related.link: OuterRef(name)})
        rows = rows.filter(self.walls(other, [related.date]), self.condition(related.filters, other))
        if related.when == "earlier":
            return rows.filter(**{f"{related.date}__lt": OuterRef(self.date)})
        if related.when == "later":
            return rows.filter(**{f"{related.date}__gte": OuterRef(self.date)})
        # "next_period": the period after the one the outer record is in.
        if window is not None:
            return rows.filter(in_range(other, related.date, window.end, window.end + dt.timedelta(days=window.days)))
        self.uses_period_number = True
        other_zone = company_zone() if other.field(related.date).kind == Kind.DATETIME else None
        rows = rows.annotate(_next=period_number(related.date, self.layout.every.value, other_zone))
        return rows.filter(_next=OuterRef("_period_number") + 1)

    def walls(self, source: Source, paths: Iterable[str]) -> Q:
        """Reading through a link only where the linked record is one the user may read.

        A filter, a measured value or a date read through `deal__...` keeps a record only while its
        deal is visible (or it has none), so a visible record cannot tell what another team's record
        holds. The link the source's own visibility goes through (an offer line's offer) is visible
        already, and a user who reads every record of a model needs no condition at all.
        """
        if self.scope.user is None:
            return Q()
        own = getattr(source.model, "owner_path", "owner").split("__")
        links: dict[str, QuerySet] = {}
        for path in paths:
            parts = path.split("__")
            model: Any = source.model
            for index, part in enumerate(parts[:-1]):
                model = model._meta.get_field(part).related_model  # parsed paths follow links only
                prefix = parts[: index + 1]
                link = "__".join(prefix)
                if link in links or prefix == own[: index + 1] or not _owned(model):
                    continue
                visible = self.scope.rows(model)
                if visible.query.where:  # empty: the user reads every record of the model
                    links[link] = visible.values("pk")
        return reduce(and_, (Q(**{f"{link}__isnull": True}) | Q(**{f"{link}__in": rows}) for link, rows in links.items()), Q())

    def prefilter(self, leaves: Sequence[Leaf]) -> Q:
        """Rows no leaf can use are left out in WHERE (the index on status, kind ... can then help).

        The filters every leaf has are one plain condition, so a partial index whose predicate they
        imply (open deals) can serve the query; of the rest, a leaf's filters that include another
        leaf's are implied by it and left out of the OR.
        """
        shared = shared_filters(leaves)
        rests: set[tuple[Filter, ...]] = set()
        for leaf in leaves:
            rest = tuple(f for f in _plain(leaf.filters) if f not in shared)
            if not rest:  # this leaf takes every row the shared filters let through
                rests = set()
                break
            rests.add(rest)
        weakest = [rest for rest in rests if not any(set(other) < set(rest) for other in rests)]
        condition = self.condition(shared, self.source)
        if weakest:
            condition &= reduce(or_, (self.condition(rest, self.source) for rest in sorted(weakest, key=repr)))
        return condition

    def leaf_condition(self, leaf: Leaf, shared: tuple[Filter, ...], window: Span | None = None) -> Q:
        """A leaf's own filters, less those WHERE already applies to every row of the query."""
        return self.condition([f for f in leaf.filters if f not in shared], self.source, window)

    # -- values

    def value(self, leaf: Leaf) -> Expression | F:
        assert leaf.value is not None
        if leaf.value.startswith("days:"):
            _kind, start, end = leaf.value.split(":")
            return DaysBetween(F(start), F(end))
        if leaf.value.startswith("epoch:"):
            return EpochDays(F(leaf.value.removeprefix("epoch:")))
        return self.source.value(leaf.value)

    def aggregate(self, leaf: Leaf, condition: Q) -> Expression:
        condition &= self.walls(self.source, value_paths(leaf))
        only = condition or None  # an empty Q would still render a FILTER clause
        if leaf.agg == "count":
            # COUNT(1), not COUNT(id): the id is never null, and a covering index without it can then answer.
            return Count(Value(1), filter=only)
        if leaf.agg == "distinct":
            assert leaf.value is not None
            return Count(leaf.value, distinct=True, filter=only)
        if factored := self.per_group(leaf):
            field, factor = factored
            # The factor is one value per group: any of its rows' (MAX), read once per group.
            summed = Sum(self.source.value(field), filter=only) * factor(lambda path: Max(path))
            return Coalesce(summed, Value(0), output_field=leaf_output(leaf))
        return Coalesce(Sum(self.value(leaf), filter=only), Value(0), output_field=leaf_output(leaf))

    def per_group(self, leaf: Leaf) -> tuple[str, Callable[[Callable[[str], Expression]], Expression]] | None:
        """A summed computed value's field and factor where the query's groups each have one factor, else None."""
        computed = self.source.computed.get(leaf.value or "")
        if leaf.agg != "sum" or computed is None or self.dimension is None:
            return None
        return computed.per_group.get(self.dimension.name)

    def base(self, leaves: Sequence[Leaf]) -> QuerySet:
        read = [self.date, *(self.dimension.reads if self.dimension else ())]
        return self.scope.queryset(self.source).filter(self.walls(self.source, read), self.prefilter(leaves))

    def grouped(self, queryset: QuerySet, *names: str) -> QuerySet:
        if self.dimension is not None:
            queryset = queryset.annotate(_group=self.dimension.expression())
            names = (*names, "_group")
        return queryset.values(*names)

    def keyed(self, table: LeafTable) -> Callable[[Any], GroupKey]:
        """A grouped row's group as the table keys it: a link's id, or the code of a value (text, a band)."""
        if self.dimension is None or self.dimension.link is not None:
            return _same
        return table.values.code

    # -- the two layouts

    def per_bucket(
        self, leaves: Sequence[Leaf], first: dt.date | None, end: dt.date | None, bucket: Expression, where: Q | None = None
    ) -> QuerySet:
        """One row per bucket (and group) with a column `v<i>` per leaf: the grouped query itself."""
        rows = self.base(leaves).filter(self.in_range(first, end), where or Q()).annotate(_bucket=bucket)
        shared = shared_filters(leaves)
        aggregates = {f"v{index}": self.aggregate(leaf, self.leaf_condition(leaf, shared)) for index, leaf in enumerate(leaves)}
        if self.uses_period_number:
            rows = rows.annotate(_period_number=period_number(self.date, self.layout.every.value, self.zone))
        return self.grouped(rows, "_bucket").annotate(**aggregates).order_by()

    def by_period(self, leaves: Sequence[Leaf], table: LeafTable) -> None:
        first, end = self.row_buckets()
        if self.batch.cumulative:
            before = in_range(self.source, self.date, None, first)
            bucket = Case(When(before, then=Value(BEFORE)), default=self.trunc(), output_field=DateField())
            result = self.per_bucket(leaves, None, end, bucket)
        else:
            result = self.per_bucket(leaves, first, end, self.trunc())
        aliases = {f"v{index}": leaf for index, leaf in enumerate(leaves)}
        fill(table, result, aliases, every=self.layout.every, offset=self.batch.offset, keyed=self.keyed(table))

    def by_window(self, leaves: Sequence[Leaf], table: LeafTable) -> None:
        windows = self.row_windows()
        start = None if self.batch.cumulative else min(w.start for w in windows)
        rows = self.base(leaves).filter(self.in_range(start, max(w.end for w in windows)))
        shared = shared_filters(leaves)
        aliases: dict[str, tuple[Leaf, int]] = {}
        aggregates = {}
        for index, window in enumerate(windows):
            within = self.in_range(None if self.batch.cumulative else window.start, window.end)
            for number, leaf in enumerate(leaves):
                alias = f"v{number}_{index}"
                aliases[alias] = (leaf, index)
                aggregates[alias] = self.aggregate(leaf, within & self.leaf_condition(leaf, shared, window))
        if self.dimension is None:
            results = [rows.aggregate(**aggregates)]
        else:
            results = list(self.grouped(rows).annotate(**aggregates).order_by())
        by_leaf: dict[Leaf, tuple[list[int], list[GroupKey], list[Any]]] = defaultdict(lambda: ([], [], []))
        keyed = self.keyed(table)
        for row in results:
            group = keyed(row.get("_group"))
            for alias, (leaf, index) in aliases.items():
                buckets, groups, values = by_leaf[leaf]
                buckets.append(index)
                groups.append(group)
                values.append(row[alias] or 0)
        for leaf, columns in by_leaf.items():
            table.add(leaf, *columns)

    def top_share(self, leaf: Leaf, table: LeafTable) -> None:
        """The share of the total held by the top `share` of entities, ranked in SQL with window functions."""
        assert leaf.entity is not None and leaf.share is not None
        fraction = Fraction(leaf.share).limit_denominator(1000)
        entity = leaf.entity
        base = self.base([leaf]).filter(self.condition(leaf.filters, self.source)).filter(**{f"{entity}__isnull": False})
        base = base.filter(self.walls(self.source, [*value_paths(leaf), entity]))
        selections: list[tuple[int | None, QuerySet]]
        if self.layout.by_period:
            first, end = self.row_buckets()
            selections = [(None, base.filter(self.in_range(first, end)).annotate(_bucket=self.trunc()))]
        else:
            selections = [(index, base.filter(self.in_range(w.start, w.end))) for index, w in enumerate(self.row_windows())]
        for index, rows in selections:
            columns = (["_bucket"] if index is None else []) + (["_group"] if self.dimension else [])
            partition = [F(name) for name in columns] or None
            ranked = self.grouped(rows, *[c for c in columns if c != "_group"], entity).annotate(_value=Sum(self.value(leaf)))
            order = [F("_value").desc(), F(entity).asc()]
            ranked = ranked.order_by().annotate(
                _rank=Window(RowNumber(), partition_by=partition, order_by=order),
                _count=Window(Count("*"), partition_by=partition),
                _top=Window(WindowSum(F("_value")), partition_by=partition, order_by=order, frame=RowRange(start=None, end=0)),
                _total=Window(WindowSum(F("_value")), partition_by=partition),
            )
            # The last of the top ceil(count * share) entities: its running total is theirs.
            cutoff = (F("_count") * fraction.numerator + (fraction.denominator - 1)) / fraction.denominator
            ranked = ranked.filter(_rank=OverWindows(cutoff, output_field=IntegerField()))
            rows_out = list(ranked.values(*columns, "_top", "_total"))
            keyed = self.keyed(table)
            table.add(
                leaf,
                [_as_date(row["_bucket"]) if index is None else index for row in rows_out],
                [keyed(row.get("_group")) for row in rows_out],
                [float(row["_top"]) / float(row["_total"]) if row["_total"] else None for row in rows_out],
            )


def dimension_condition(source: Source, item: Filter) -> Q:
    """A filter on a dimension (kpi.dimensions): its grouped value is (or is not) one of the values, or blank."""
    found = dimension(source, item.field)
    if item.op == Op.ISNULL:
        blank = found.condition([None])
        return blank if item.value else ~blank
    values = list(item.value) if item.op in {Op.IN, Op.NOT_IN} else [item.value]
    # NOT over a value that can be NULL: the blank group is a value like any other, so it stays in `ne`.
    matching = found.condition(values)
    return matching if item.op in {Op.EQ, Op.IN} else ~matching | found.condition([None])


def value_paths(leaf: Leaf) -> list[str]:
    """The fields a leaf's value reads ("days:<start>:<end>" reads two; a computed value is its source's own)."""
    if leaf.value is None:
        return []
    return leaf.value.split(":")[1:] if ":" in leaf.value else [leaf.value]


def _owned(model: type[Model]) -> bool:
    """Whether records of `model` belong to someone, and so are visible to some users only."""
    return isinstance(model._default_manager.all(), VisibleQuerySet)


def _plain(filters: Iterable[Filter]) -> list[Filter]:
    """Filters on the record's own row (no EXISTS over other records, whose condition may depend on the window)."""
    return [f for f in filters if f.op not in {Op.EXISTS, Op.NOT_EXISTS}]


def shared_filters(leaves: Sequence[Leaf]) -> tuple[Filter, ...]:
    """The plain filters every leaf of a query has, in a stable order: WHERE applies them once for all."""
    if not leaves:
        return ()
    common = set(_plain(leaves[0].filters)).intersection(*(_plain(leaf.filters) for leaf in leaves[1:]))
    return tuple(f for f in leaves[0].filters if f in common)


def _same(group: Any) -> GroupKey:
    return group


def fill(
    table: LeafTable,
    rows: Iterable[dict[str, Any]],
    aliases: dict[str, Leaf],
    *,
    every: Every,
    offset: int,
    keyed: Callable[[Any], GroupKey] = _same,
) -> None:
    """Put per-bucket rows (`_bucket`, `_group`, a column per leaf) into `table`; an offset moves them periods later."""
    by_leaf: dict[Leaf, tuple[list[dt.date], list[GroupKey], list[Any]]] = defaultdict(lambda: ([], [], []))
    for row in rows:
        day = _as_date(row["_bucket"])
        if day != BEFORE and offset:
            day = shift(day, every, offset)
        group = keyed(row.get("_group"))
        for alias, leaf in aliases.items():
            buckets, groups, values = by_leaf[leaf]
            buckets.append(day)
            groups.append(group)
            values.append(row[alias] or 0)
    for leaf, columns in by_leaf.items():
        table.add(leaf, *columns)


def in_range(source: Source, date: str, start: dt.date | None, end: dt.date | None) -> Q:
    """Records of `source` dated from `start` to before `end` in the company calendar (None: no bound, but dated)."""

    def bound(day: dt.date) -> dt.date | dt.datetime:
        return local_midnight(day) if source.field(date).kind == Kind.DATETIME else day

    condition = Q(**{f"{date}__isnull": False}) if end is None else Q(**{f"{date}__lt": bound(end)})
    if start is not None:
        condition &= Q(**{f"{date}__gte": bound(start)})
    return condition


@lru_cache(maxsize=1024)
def leaf_output(leaf: Leaf) -> Any:
    """The type of a leaf's value: counts are integers, durations and ages floats, money and decimals decimals."""
    if leaf.agg in {"count", "distinct"}:
        return IntegerField()
    assert leaf.value is not None
    if leaf.value.startswith(("days:", "epoch:")):
        return FloatField()
    info = get_source(leaf.source).field(leaf.value)
    if info.kind == Kind.MONEY or info.model_field is None:
        return MONEY_OUTPUT
    internal = info.model_field.get_internal_type()
    if internal.endswith("IntegerField"):
        return IntegerField()
    return MONEY_OUTPUT if internal == "DecimalField" else FloatField()


def _as_date(value: Any) -> dt.date:
    """Trunc gives dates, datetimes (PostgreSQL, through CASE) or text (SQLite, through CASE)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _literal(source: Source, field: str, value: str) -> Any:
    """ISO text in a filter on a date becomes a date, or a datetime in the company time zone."""
    kind = source.field(field).kind
    if kind == Kind.DATETIME:
        moment = dt.datetime.fromisoformat(value)
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment, company_zone())
    if kind == Kind.DATE:
        return dt.date.fromisoformat(value)
    return value


def records_condition(
    source: str, filters: Sequence[Filter], *, user: Any, date: str | None = None, window: Span | None = None
) -> Q:
    """A KPI's filters as a condition on its source's records, walls included, exactly as the engine applies them.

    The list of the records behind a KPI uses it, so it keeps what the KPI counts. `date` is the KPI's date
    field (an `exists ... earlier` compares with it); `window` the range an `exists ... next_period` reads after.
    """
    info = get_source(source)
    batch = Batch(source, date or info.date, info.attribution, 0, False)
    query = LeafQuery(
        batch, Layout(Every.NONE, windows=(window,) if window else ()), "none", Scope(user, DEFAULT_DB_ALIAS, timezone.now())
    )
    return query.condition(filters, info, window)
