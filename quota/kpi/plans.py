"""From a definition to what the database must aggregate (leaves) and how to combine them (a formula).

A leaf is one aggregate over one source: a count, a distinct count or a sum, with its filters,
placed in periods by one date field. Every measure reduces to leaves: an average is a sum over a
count, a duration is a sum of days over a count, a snapshot is what came in minus what went out
up to the period's end. Leaves are plain values, so equal leaves of different KPIs are computed
once and leaves of one source and date share one grouped query.

Combining happens in Python after the query: a missing leaf is 0 (an empty period), and a ratio
whose denominator is 0 is None (undefined), never a made-up 0.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cached_property
from typing import Union

import numpy as np

from quota.kpi.definitions import DURATION_PER, Definition, Filter, Measure, Op, canonical_json

Number = int | float | Decimal


@dataclass(frozen=True)
class Leaf:
    source: str
    date: str
    attribution: str
    agg: str  # count | distinct | sum | top_share
    value: str | None = None  # a field, "days:<start>:<end>" or "epoch:<field>"
    filters: tuple[Filter, ...] = ()
    cumulative: bool = False  # everything dated before the period's end, not just in it
    offset: int = 0
    entity: str | None = None  # top_share: what is ranked
    share: Decimal | None = None

    @cached_property
    def key(self) -> str:
        """A short stable name for the rows a leaf adds up; a cumulative leaf shares it with its flow (rollups store flows)."""
        text = canonical_json(
            [
                self.source,
                self.date,
                self.attribution,
                self.agg,
                self.value,
                _filters_json(self.filters),
                self.offset,
                self.entity,
                self.share,
            ]
        )
        return hashlib.sha1(text.encode()).hexdigest()[:16]

    def __hash__(self) -> int:
        # Leaves key every table lookup; hashing their nested filters each time was the engine's hot spot.
        return hash((self.key, self.cumulative))


def _filters_json(filters: tuple[Filter, ...]) -> list[str]:
    return sorted(repr(f) for f in filters)


@dataclass(frozen=True)
class Ref:
    leaf: Leaf


@dataclass(frozen=True)
class Ratio:
    numerator: Node
    denominator: Node


@dataclass(frozen=True)
class Difference:
    left: Node
    right: Node


@dataclass(frozen=True)
class Scaled:
    node: Node
    multiply_by: Decimal
    divide_by: Decimal = Decimal(1)


@dataclass(frozen=True)
class AgeAt:
    """Average age at the snapshot moment: moment - (sum of start days / count), in `per` units."""

    start_days: Node
    count: Node
    per: Decimal


Node = Union[Ref, Ratio, Difference, Scaled, AgeAt]  # noqa: UP007 (a forward-referencing alias)


@dataclass(frozen=True)
class Plan:
    formula: Node
    leaves: frozenset[Leaf]


def plan(definition: Definition) -> Plan:
    context = _Context(
        source=definition.source,
        date=definition.date or "",
        attribution=definition.attribution,
        filters=definition.filters,
        offset=definition.offset,
    )
    formula = _compile(definition.measure, context)
    if definition.snapshot is not None:
        formula = _as_snapshot(formula, definition.snapshot.start, definition.snapshot.end)
    return Plan(formula, frozenset(_leaves(formula)))


@dataclass(frozen=True)
class _Context:
    source: str
    date: str
    attribution: str | None
    filters: tuple[Filter, ...]
    offset: int

    def leaf(self, agg: str, value: str | None = None, extra: tuple[Filter, ...] = (), **more: object) -> Ref:
        from quota.kpi.sources import get_source

        attribution = self.attribution or get_source(self.source).attribution
        filters = tuple(sorted(set(self.filters + extra), key=repr))
        return Ref(Leaf(self.source, self.date, attribution, agg, value, filters, offset=self.offset, **more))  # type: ignore[arg-type]


def _not_null(*fields: str) -> tuple[Filter, ...]:
    return tuple(Filter(f, Op.ISNULL, False) for f in fields)


def _compile(measure: Measure, context: _Context) -> Node:
    if measure.source is not None:
        context = _Context(measure.source, measure.date or "", measure.attribution, (), context.offset)
    context = replace(context, filters=context.filters + measure.filters)
    kind = measure.kind
    node: Node
    if kind == "count":
        node = context.leaf("count")
    elif kind == "distinct":
        node = context.leaf("distinct", measure.field)
    elif kind == "sum":
        node = context.leaf("sum", measure.field)
    elif kind == "avg":
        assert measure.field is not None
        node = Ratio(context.leaf("sum", measure.field), context.leaf("count", extra=_not_null(measure.field)))
    elif kind == "duration":
        assert measure.start is not None and measure.end is not None
        both = _not_null(measure.start, measure.end)
        days = context.leaf("sum", f"days:{measure.start}:{measure.end}", extra=both)
        node = Scaled(Ratio(days, context.leaf("count", extra=both)), DURATION_PER[measure.per])
    elif kind == "age":
        assert measure.field is not None
        node = AgeAt(context.leaf("sum", f"epoch:{measure.field}"), context.leaf("count"), DURATION_PER[measure.per])
    elif kind == "top_share":
        node = context.leaf("top_share", measure.field, entity=measure.entity, share=measure.share)
    elif kind == "ratio":
        node = Ratio(_compile(measure.parts[0], context), _compile(measure.parts[1], context))
    elif kind == "difference":
        node = Difference(_compile(measure.parts[0], context), _compile(measure.parts[1], context))
    else:  # pragma: no cover - definitions.parse admits only the kinds above
        raise ValueError(f"Unknown measure kind {kind}")
    if measure.cumulative:
        node = _map_refs(node, lambda ref: Ref(replace(ref.leaf, cumulative=True)))
    if measure.multiply_by != 1 or measure.divide_by != 1:
        node = Scaled(node, measure.multiply_by, measure.divide_by)
    return node


def _as_snapshot(node: Node, start: str, end: str) -> Node:
    """At a period's end, what is in = what came in (by `start`) - what went out (by `end`), both cumulated."""

    def in_minus_out(ref: Ref) -> Node:
        came = replace(ref.leaf, date=start, cumulative=True)
        went = replace(ref.leaf, date=end, cumulative=True)
        return Difference(Ref(came), Ref(went))

    return _map_refs(node, in_minus_out)


def _map_refs(node: Node, change: Callable[[Ref], Node]) -> Node:
    if isinstance(node, Ref):
        return change(node)
    if isinstance(node, Ratio):
        return Ratio(_map_refs(node.numerator, change), _map_refs(node.denominator, change))
    if isinstance(node, Difference):
        return Difference(_map_refs(node.left, change), _map_refs(node.right, change))
    if isinstance(node, Scaled):
        return Scaled(_map_refs(node.node, change), node.multiply_by, node.divide_by)
    return AgeAt(_map_refs(node.start_days, change), _map_refs(node.count, change), node.per)


def _leaves(node: Node) -> list[Leaf]:
    if isinstance(node, Ref):
        return [node.leaf]
    if isinstance(node, Ratio):
        return _leaves(node.numerator) + _leaves(node.denominator)
    if isinstance(node, Difference):
        return _leaves(node.left) + _leaves(node.right)
    if isinstance(node, Scaled):
        return _leaves(node.node)
    return _leaves(node.start_days) + _leaves(node.count)


def compute(node: Node, leaf_array: Callable[[Leaf], np.ndarray], moment_days: np.ndarray) -> np.ndarray:
    """The formula for every (bucket, group) at once; NaN where it is undefined (a ratio over 0).

    `moment_days` is each bucket's snapshot moment in days since 1970 (a column), for ages.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return _compute(node, leaf_array, moment_days)


def _compute(node: Node, leaf_array: Callable[[Leaf], np.ndarray], moment_days: np.ndarray) -> np.ndarray:
    if isinstance(node, Ref):
        return leaf_array(node.leaf)
    if isinstance(node, Ratio):
        numerator = _compute(node.numerator, leaf_array, moment_days)
        denominator = _compute(node.denominator, leaf_array, moment_days)
        return np.where(denominator != 0, numerator / np.where(denominator != 0, denominator, 1), np.nan)
    if isinstance(node, Difference):
        return _compute(node.left, leaf_array, moment_days) - _compute(node.right, leaf_array, moment_days)
    if isinstance(node, Scaled):
        return _compute(node.node, leaf_array, moment_days) * float(node.multiply_by) / float(node.divide_by)
    start_days = _compute(node.start_days, leaf_array, moment_days)
    count = _compute(node.count, leaf_array, moment_days)
    safe = np.where(count != 0, count, 1)
    return np.where(count != 0, (moment_days - start_days / safe) * float(node.per), np.nan)


def integral(node: Node) -> bool:
    """Whether the formula only counts (its values are whole numbers)."""
    if isinstance(node, Ref):
        return node.leaf.agg in {"count", "distinct"}
    if isinstance(node, Difference):
        return integral(node.left) and integral(node.right)
    return False
