"""Evaluate KPIs: values per period and group, with the previous period and the same period last year.

    evaluate(["won_revenue", "win_rate"], user=request.user, start=..., end=..., every="month", by="person")

How it stays cheap: every KPI becomes leaves (plans.py); leaves of the same source, date field and
attribution are computed by one grouped query (queries.py) - one per KPI at most, fewer when KPIs
share a source - or read from rollups (kpi.rollups) when those are fresh. Comparisons come from the
same query: its range is widened to reach the previous periods and the same periods a year earlier
(for `every=none`, the three windows are three filtered aggregates of the same query). Empty
periods are filled after the query: 0 for counts and sums, None where a ratio has nothing to divide
by. Values are live: rollups and the finished tables of cache.py are kept current by every write.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import partial
from itertools import repeat
from typing import NamedTuple

import numpy as np
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone
from django.utils.translation import gettext as _

from quota.core.collector import collector_paused
from quota.kpi import cache as kpi_cache
from quota.kpi import dimensions, rollups
from quota.kpi.definitions import Better, Definition, Unit
from quota.kpi.dimensions import Dimension, dimension
from quota.kpi.layout import GroupKey, Layout
from quota.kpi.models import Metric
from quota.kpi.periods import Every, Span, inclusive, local_midnight, shift, starts, year_before
from quota.kpi.plans import Leaf, Plan, compute, integral, plan
from quota.kpi.queries import Batch, Scope, batches, run
from quota.kpi.sources import get_source
from quota.kpi.table import LeafTable

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
PREVIEW_KEY = "preview"
Value = int | float | None


# Within `reading_once()`: per database, the current version of every KPI by key.
_current: ContextVar[dict[str, dict[str, Metric]] | None] = ContextVar("kpi_current_versions", default=None)


@contextmanager
def reading_once() -> Iterator[None]:
    """Within the block, evaluations look up the KPIs' current versions and which rollups are fresh once, not each
    time: a page of several sections makes two queries instead of two per section, and all its sections read the
    same versions and the same rollups. For a page that only reads; a KPI saved inside the block is not seen.
    """
    token = _current.set({})
    try:
        with rollups.checked_once():
            yield
    finally:
        _current.reset(token)


class UnknownKpi(LookupError):
    pass


class GroupingNotSupported(ValueError):
    pass


class Group(NamedTuple):
    id: GroupKey
    label: str


class Point(NamedTuple):
    """One value. Named tuples: a dashboard by person builds tens of thousands of these per request."""

    period: dt.date | None  # the first day of the period; None for the whole range
    group: Group | None  # None when not grouped
    value: Value  # money in the company currency, rates as fractions; None when undefined
    previous: Value = None
    last_year: Value = None


@dataclass(frozen=True)
class KpiResult:
    key: str
    version: int | None
    name: str
    unit: Unit
    better: Better
    points: tuple[Point, ...]
    computed_at: dt.datetime

    def point(self, period: dt.date | None = None, group: GroupKey = None) -> Point | None:
        for point in self.points:
            if point.period == period and (point.group.id if point.group else None) == group:
                return point
        return None


@dataclass(frozen=True)
class Evaluation:
    computed_at: dt.datetime
    start: dt.date
    end: dt.date
    every: Every
    by: str
    results: dict[str, KpiResult]

    def __getitem__(self, key: str) -> KpiResult:
        return self.results[key]

    def __iter__(self) -> Iterator[KpiResult]:
        return iter(self.results.values())


@dataclass(frozen=True)
class _Kpi:
    key: str
    version: int | None
    name: str
    definition: Definition
    plan: Plan


def evaluate(
    kpis: Sequence[str | Metric | Definition],
    *,
    user: object | None,
    start: dt.date,
    end: dt.date,
    every: Every | str = Every.MONTH,
    by: str = "none",
    compare: bool = True,
    using: str = DEFAULT_DB_ALIAS,
) -> Evaluation:
    """Values of `kpis` (keys, versions or unsaved definitions) for start..end, as `user` may see them.

    `every` cuts the range into whole periods (or none: the range as one); `by` groups by a dimension
    (kpi.dimensions: person, team, source, custom.<key>, company.size ...; refused, with the reason, for a
    KPI that cannot be grouped so);
    `compare` adds each period's previous period and the same period a year earlier. `user` None is
    system work (commands, schedules) and sees everything.
    """
    every = Every(every)
    if end < start:
        raise ValueError(_("The range ends before it starts."))
    resolved = _resolve(kpis, using, by)
    layout, periods = _layout(start, end, every, compare)
    computed_at = timezone.now()
    scope = Scope(user=user, using=using, now=computed_at)

    def evaluated() -> Evaluation:
        with collector_paused():
            table = _compute(resolved, layout, by, scope)
            moments = _moments(table, layout, computed_at)
            values = {kpi.key: compute(kpi.plan.formula, table.array, moments) for kpi in resolved}
            shown = {kpi.key: _shown_groups(kpi, table, by) for kpi in resolved}
            found = None if by == "none" else dimension(get_source(resolved[0].definition.source), by) if resolved else None
            ids = {table.groups[i] for columns in shown.values() for i in columns}
            labels = dimensions.labels(found, ids, table.values, using) if found else {}
            groups = _ordered_groups(table, {i for columns in shown.values() for i in columns}, labels, found)
            results = {
                kpi.key: _result(kpi, values[kpi.key], table, layout, periods, groups, set(shown[kpi.key]), computed_at)
                for kpi in resolved
            }
        return Evaluation(computed_at, start, end, every, by, results)

    if rollups.is_bypassed():
        return evaluated()
    # What the answer is made of besides the leaves: which KPIs, as named in the user's language, and how shown.
    identity = [[kpi.key, kpi.version, kpi.name, repr(kpi.definition)] for kpi in resolved] + [start, end, compare]
    leaves = [leaf for kpi in resolved for leaf in kpi.plan.leaves]
    return kpi_cache.cached_evaluation(identity, leaves, layout, by, scope, evaluated)


@dataclass(frozen=True)
class SpanValues:
    """Values of several KPIs for explicit date spans (targets' periods) and groups."""

    spans: tuple[Span, ...]
    computed_at: dt.datetime
    table: LeafTable
    kpis: dict[int, _Kpi]
    _values: dict[int, np.ndarray] = field(default_factory=dict)

    def value(self, metric: Metric, span: Span, group: GroupKey) -> Value:
        """The value for a group asked for (0 for counts and sums without records, None for rates)."""
        if metric.pk not in self._values:
            moments = _moments(self.table, Layout(Every.NONE, windows=self.spans), self.computed_at)
            self._values[metric.pk] = compute(self.kpis[metric.pk].plan.formula, self.table.array, moments)
        return _plain(self._values[metric.pk][self.spans.index(span), self.table.groups.index(group)])


def evaluate_spans(
    metrics: Sequence[Metric],
    spans: Sequence[Span],
    *,
    user: object | None,
    by: str,
    groups: Iterable[GroupKey] = (),
    using: str = DEFAULT_DB_ALIAS,
) -> SpanValues:
    """Values of each metric (a version) for each span and group: one batch of queries for all of them."""
    resolved = _resolve(list(metrics), using, by)
    layout = Layout(Every.NONE, windows=tuple(spans))
    computed_at = timezone.now()
    table = _compute(resolved, layout, by, Scope(user=user, using=using, now=computed_at), groups)
    return SpanValues(tuple(spans), computed_at, table, {m.pk: kpi for m, kpi in zip(metrics, resolved, strict=True)})


def _compute(resolved: list[_Kpi], layout: Layout, by: str, scope: Scope, groups: Iterable[GroupKey] = ()) -> LeafTable:
    """Every leaf of every KPI: rollups where fresh ones can answer, one grouped query per batch otherwise.

    `groups` are included even without records (a target's person), so their values are 0, not missing.
    """
    groups = list(groups)
    work = batches(leaf for kpi in resolved for leaf in kpi.plan.leaves)

    def computed(work: dict[Batch, list[Leaf]]) -> LeafTable:
        every_leaf = [leaf for leaves in work.values() for leaf in leaves]
        table = LeafTable(layout, [None] if by == "none" else groups)
        reader = rollups.Reader(layout, by, scope, every_leaf)
        live = [(batch, rest) for batch, leaves in work.items() if (rest := reader.take(batch, leaves))]
        reader.read(table)
        for batch, leaves in live:
            run(batch, leaves, layout=layout, by=by, scope=scope, table=table)
        table.finish(every_leaf)
        return table

    if rollups.is_bypassed():  # comparing rollups with the records: the records, every time
        return computed(work)
    by_source: dict[str, dict[Batch, list[Leaf]]] = defaultdict(dict)
    for batch, leaves in work.items():
        by_source[batch.source][batch] = leaves
    if len(by_source) == 1 or by not in ("none", "person", "team") or not kpi_cache.seconds():
        every_leaf = [leaf for leaves in work.values() for leaf in leaves]
        return kpi_cache.cached_table(every_leaf, layout, by, scope, groups, partial(computed, work))
    # Kept source by source: a call logged renews the activities' figures, not the deals' beside them.
    parts = [
        kpi_cache.cached_table(
            [leaf for leaves in part.values() for leaf in leaves], layout, by, scope, groups, partial(computed, part)
        )
        for _source, part in sorted(by_source.items())
    ]
    return LeafTable.united(layout, parts)


def _moments(table: LeafTable, layout: Layout, computed_at: dt.datetime) -> np.ndarray:
    """Each bucket's snapshot moment (days since 1970): its end, or now for the current period."""

    def end(bucket: dt.date | int) -> dt.date:
        return layout.windows[bucket].end if isinstance(bucket, int) else shift(bucket, layout.every, 1)

    days = [(min(local_midnight(end(b)), computed_at) - EPOCH).total_seconds() / 86400 for b in table.bucket_keys]
    return np.array(days, dtype=np.float64).reshape(-1, 1)


def _resolve(kpis: Sequence[str | Metric | Definition], using: str, by: str) -> list[_Kpi]:
    """The KPIs asked for (current versions for keys), refusing any that cannot be grouped `by`."""
    keys = [k for k in kpis if isinstance(k, str)]
    found = current_versions(keys, using) if keys else {}
    out = []
    for item in kpis:
        if isinstance(item, Definition):
            out.append(_Kpi(PREVIEW_KEY, None, _("Preview"), item, plan(item)))
            continue
        metric = item if isinstance(item, Metric) else found.get(item)
        if metric is None:
            raise UnknownKpi(unknown_kpi_message(str(item), using))
        out.append(_Kpi(metric.key, metric.version, metric.display_name, metric.parsed, plan(metric.parsed)))
    for kpi in out:
        problem = kpi.definition.grouping_problem(by)
        if problem:
            raise GroupingNotSupported(
                _("%(kpi)s cannot be grouped by %(by)s. %(why)s") % {"kpi": kpi.name, "by": by, "why": problem}
            )
    return out


def current_versions(keys: list[str], using: str = DEFAULT_DB_ALIAS) -> dict[str, Metric]:
    """The current version of each KPI of `keys` that exists, by key."""
    current = _current.get()
    if current is None:
        return {m.key: m for m in Metric.objects.using(using).current().filter(key__in=keys)}
    if using not in current:
        current[using] = {m.key: m for m in Metric.objects.using(using).current()}
    return {key: current[using][key] for key in keys if key in current[using]}


def unknown_kpi_message(key: str, using: str = DEFAULT_DB_ALIAS) -> str:
    known = list(Metric.objects.using(using).current().values_list("key", flat=True))
    close = difflib.get_close_matches(key, known, n=3, cutoff=0.5)
    hint = _("; did you mean %(keys)s?") % {"keys": ", ".join(close)} if close else _("; `quota kpi list` shows them all.")
    return _("There is no KPI '%(key)s'") % {"key": key} + hint


def _layout(start: dt.date, end: dt.date, every: Every, compare: bool) -> tuple[Layout, list[dt.date | None]]:
    if every == Every.NONE:
        window = inclusive(start, end)
        windows = (window, window.before(), window.year_before()) if compare else (window,)
        return Layout(every, windows=windows), [None]
    shown = starts(start, end, every)
    needed = set(shown)
    if compare:
        needed |= {shift(p, every, -1) for p in shown} | {year_before(p, every) for p in shown}
    return Layout(every, buckets=tuple(sorted(needed))), list(shown)


def _shown_groups(kpi: _Kpi, table: LeafTable, by: str) -> list[int]:
    """Columns of the groups the KPI shows: everyone's total, or the groups with records for it."""
    if by == "none":
        return [table.groups.index(None)]
    present = np.zeros(len(table.groups), dtype=bool)
    for leaf in kpi.plan.leaves:
        present |= table.present(leaf)
    return [int(i) for i in np.flatnonzero(present)]


def _ordered_groups(
    table: LeafTable, columns: set[int], labels: dict[GroupKey, str], found: Dimension | None
) -> list[tuple[int, Group | None]]:
    """The table columns shown, as groups sorted by label - bands and choices in their order - unassigned last."""
    if found is None:
        return [(column, None) for column in columns]
    order = dimensions.sort_key(found, table.values)
    groups = [(Group(table.groups[column], labels.get(table.groups[column], "")), column) for column in sorted(columns)]
    ordered = sorted(groups, key=lambda g: order(g[0].id, g[0].label))
    return [(column, group) for group, column in ordered]


def _result(
    kpi: _Kpi,
    values: np.ndarray,
    table: LeafTable,
    layout: Layout,
    periods: list[dt.date | None],
    all_groups: list[tuple[int, Group | None]],
    shown: set[int],
    computed_at: dt.datetime,
) -> KpiResult:
    groups = [g for g in all_groups if g[0] in shown]
    order = [column for column, _ in groups]
    rows = [_rows(period, table, layout) for period in periods]
    compare = len(table.bucket_keys) > (len(periods) if layout.by_period else 1)
    whole = integral(kpi.plan.formula)

    # Periods x groups of the value, the previous period and last year in one gather, as plain Python values
    # converted by numpy (not one by one). A comparison without its row reads the NaN row added at the end.
    missing = len(values)
    picked = [[missing if row[which] is None or (which and not compare) else row[which] for row in rows] for which in range(3)]
    padded = np.vstack([values, np.full((1, values.shape[1]), np.nan)])
    grid = padded[np.ix_(np.array(picked, dtype=np.intp).ravel(), np.array(order, dtype=np.intp))]
    plain = _plain_values(grid, whole)
    size = len(periods) * len(order)

    group_objects = [group for _, group in groups]
    # Point(*values) would run the named tuple's __new__ in Python once per point: tuple.__new__ makes them in C.
    rows_of_values = zip(
        [period for period in periods for _ in order],
        group_objects * len(periods),
        plain[:size],
        plain[size : 2 * size],
        plain[2 * size :],
        strict=True,
    )
    points = tuple(map(tuple.__new__, repeat(Point), rows_of_values))
    definition = kpi.definition
    return KpiResult(kpi.key, kpi.version, kpi.name, definition.unit, definition.better, points, computed_at)


def _rows(period: dt.date | None, table: LeafTable, layout: Layout) -> tuple[int, int | None, int | None]:
    """The table rows of a shown period, its previous period and the same period last year."""
    if period is None:
        count = len(layout.windows)
        return 0, 1 if count > 1 else None, 2 if count > 2 else None
    current = table.row(period)
    assert current is not None, "every shown period is in the table"
    return current, table.row(shift(period, layout.every, -1)), table.row(year_before(period, layout.every))


def _plain(value: float, whole: bool = False) -> Value:
    if value != value:  # NaN: undefined
        return None
    return round(value) if whole else float(value)


def _plain_values(grid: np.ndarray, whole: bool) -> list[Value]:
    """NaN becomes None and counts become ints, for a whole array at once (numpy's tolist makes the Python numbers)."""
    undefined = np.isnan(grid).ravel()
    numbers = (np.rint(np.where(np.isnan(grid), 0, grid)).astype(np.int64) if whole else grid).ravel()
    missing = np.flatnonzero(undefined)
    if len(missing) > len(numbers) // 8:  # many holes: placing None with numpy beats a Python loop
        boxed = numbers.astype(object)
        boxed[missing] = None
        return boxed.tolist()
    out: list[Value] = numbers.tolist()
    for index in missing.tolist():
        out[index] = None
    return out
