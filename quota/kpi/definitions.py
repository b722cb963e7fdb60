"""KPI definitions as data: the JSON format, its parsed form, and the validation that explains rejections.

A definition (stored in `Metric.definition`, written by the catalogue or the builder):

    {
      "source": "deals",                    # what is counted (see sources.py)
      "date": "closed_at",                  # the date that places a record in a period
      "attribution": "owner",               # optional: the person a record counts for (default: the source's)
      "filters": [{"field": "status", "op": "eq", "value": "won"}],
      "measure": {"kind": "sum", "field": "amount"},
      "unit": "money",                      # count, money, percent, days, hours, minutes, score
      "better": "higher"                    # or "lower"
    }

Measures: `count`; `distinct` (field); `sum` and `avg` (field; money is converted to the company
currency); `duration` (average time from `start` to `end`, `per` day/hour/minute); `ratio`
(`numerator` / `denominator`, each a measure); `difference` (`left` - `right`); `top_share` (the
share of `field` held by the top `share` of `entity`, e.g. the top 20 % of customers). Any measure
may add `filters`, read another `source` (with its own `date`), be `cumulative` (everything up to
the period's end), and scale its value with `multiply_by` / `divide_by`.

A `snapshot` ({"from": "created_at", "until": "closed_at"}) replaces `date`: a record counts from
one date until the other, and the value is taken at each period's end; its `age` measure is the
average age at that moment. `offset: 1` computes a period's value from the records of the period
before it (retention: the previous period's customers). `groupings` may restrict how the KPI can
be grouped.

Filters are `{"field", "op", "value"}` with a fixed list of operators. A value is a literal, another
field of the same record (`{"field": "response_due_at"}`), the moment of evaluation (`{"now": true}`),
or, for `exists`/`not_exists`, a related record: `{"source", "link", "date", "when", "filters"}` where
`when` is `next_period` (in the period after the record's), `earlier` (before the record's date) or
`later` (on or after it). A record's own `id` is a link to itself (deals won back from this deal:
`{"field": "id", "op": "exists", "value": {"source": "deals", "link": "won_back_from", ...}}`).
Nothing here is evaluated as code: every name is checked against the fields its source declares
(`sources.READABLE`, links followed only to declared fields), and this parser is the one check
the builder, its preview, saving, the admin and `quota kpi` all go through.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from quota.kpi import dimensions
from quota.kpi.sources import FieldInfo, Kind, Source, UnknownField, get_source


class Unit(StrEnum):
    COUNT = "count"
    MONEY = "money"
    PERCENT = "percent"  # values are fractions: 0.25 is 25 %
    DAYS = "days"
    HOURS = "hours"
    MINUTES = "minutes"
    SCORE = "score"


UNIT_LABELS = {
    Unit.COUNT: _("count"),
    Unit.MONEY: _("money (company currency)"),
    Unit.PERCENT: _("percent"),
    Unit.DAYS: _("days"),
    Unit.HOURS: _("hours"),
    Unit.MINUTES: _("minutes"),
    Unit.SCORE: _("score"),
}


class Better(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"


class Op(StrEnum):
    EQ = "eq"
    NE = "ne"
    LT = "lt"
    LTE = "lte"
    GT = "gt"
    GTE = "gte"
    IN = "in"
    NOT_IN = "not_in"
    ISNULL = "isnull"
    CONTAINS = "contains"
    EXISTS = "exists"
    NOT_EXISTS = "not_exists"


COMPARISONS = {Op.LT, Op.LTE, Op.GT, Op.GTE}
MEASURE_KINDS = ("count", "distinct", "sum", "avg", "duration", "ratio", "difference", "top_share", "age")
DURATION_PER = {"day": Decimal(1), "hour": Decimal(24), "minute": Decimal(24 * 60)}
WHEN = ("next_period", "earlier", "later")
MEASURABLE = {Kind.NUMBER, Kind.MONEY}
NUMBER_DIGITS = 30  # a literal compared with a number has at most this many digits either side of the point
DATES = {Kind.DATE, Kind.DATETIME}


@dataclass(frozen=True)
class FieldRef:
    """A filter value that is another field of the same record."""

    field: str


@dataclass(frozen=True)
class Now:
    """A filter value that is the moment the KPI is evaluated."""


@dataclass(frozen=True)
class Related:
    """The other side of an `exists` filter: records of `source` whose `link` is this record's field."""

    source: str
    link: str
    date: str
    when: str
    filters: tuple[Filter, ...] = ()


@dataclass(frozen=True)
class Filter:
    field: str
    op: Op
    value: Any
    dimension: bool = False  # `field` names a dimension (kpi.dimensions: custom.region, company.size ...), not a field


@dataclass(frozen=True)
class Measure:
    kind: str
    field: str | None = None
    start: str | None = None
    end: str | None = None
    per: str = "day"
    entity: str | None = None
    share: Decimal | None = None
    parts: tuple[Measure, ...] = ()  # ratio: (numerator, denominator); difference: (left, right)
    filters: tuple[Filter, ...] = ()
    source: str | None = None
    date: str | None = None
    attribution: str | None = None
    cumulative: bool = False
    multiply_by: Decimal = Decimal(1)
    divide_by: Decimal = Decimal(1)

    def walk(self) -> Iterator[Measure]:
        yield self
        for part in self.parts:
            yield from part.walk()


@dataclass(frozen=True)
class Snapshot:
    start: str  # "from": the record counts from this date ...
    end: str  # "until": ... until this one (never, while it is empty)


@dataclass(frozen=True)
class Definition:
    source: str
    measure: Measure
    unit: Unit
    better: Better
    date: str | None = None
    attribution: str | None = None
    filters: tuple[Filter, ...] = ()
    snapshot: Snapshot | None = None
    offset: int = 0
    groupings: tuple[str, ...] | None = None
    data: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def is_cumulative(self) -> bool:
        """Whether the value only grows through a period (counts, sums): targets then have a pace."""
        if self.snapshot is not None or self.offset:
            return False
        return all(m.kind in {"count", "distinct", "sum", "difference"} for m in self.measure.walk())

    def sources(self) -> set[str]:
        return {self.source} | {m.source for m in self.measure.walk() if m.source}

    def grouping_problem(self, by: str) -> str | None:
        """Why this KPI cannot be grouped by `by`, or None if it can."""
        if by == "none":
            return None
        if self.groupings == ("none",):
            return str(_("It is a company-wide figure and cannot be grouped."))
        if self.groupings is not None and by not in self.groupings:
            return str(
                _("It can only be grouped by %(allowed)s.") % {"allowed": _either([g for g in self.groupings if g != "none"])}
            )
        for key in sorted(self.sources()):
            problem = dimensions.problem(get_source(key), by)
            if problem:
                return problem
        return None

    def canonical(self) -> str:
        """The definition as stable JSON: equal definitions give equal text (versions compare it)."""
        return canonical_json(self.data)


def _either(options: list[str]) -> str:
    """ "person, team or source" (an or-list for messages)."""
    if len(options) < 2:
        return "".join(options)
    return str(_("%(first)s or %(last)s") % {"first": ", ".join(options[:-1]), "last": options[-1]})


def _names_dimension(source: Source, name: Any) -> bool:
    """Whether a filter's `field` names a dimension rather than a field: the field wins where both exist."""
    if not isinstance(name, str) or name == "none":
        return False
    if "." in name:  # custom.<key>, company.size ...: never a field path
        return True
    try:
        source.field(name)
    except UnknownField:
        return dimensions.is_builtin(source, name)
    return False


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class Problem:
    path: str  # where in the definition: "measure.field", "filters[0].value"
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class DefinitionError(ValueError):
    """A definition that cannot be computed; `problems` say where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def parse(data: Mapping[str, Any]) -> Definition:
    """Check a definition against the sources and models and return its parsed form."""
    reader = _Reader()
    definition = reader.definition(data)
    if reader.problems or definition is None:
        raise DefinitionError(reader.problems or [Problem("", "The definition is empty.")])
    return definition


TOP_KEYS = {"source", "date", "attribution", "filters", "measure", "unit", "better", "snapshot", "offset", "groupings"}
MEASURE_KEYS = {
    "kind",
    "field",
    "start",
    "end",
    "per",
    "entity",
    "share",
    "numerator",
    "denominator",
    "left",
    "right",
    "filters",
    "source",
    "date",
    "attribution",
    "cumulative",
    "multiply_by",
    "divide_by",
}


@dataclass
class _Context:
    source: Source
    date: str | None
    snapshot: bool
    offset: int


class _Reader:
    """Walks a definition, collecting every problem (not just the first) with where it is."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, path: str, message: Any) -> None:
        self.problems.append(Problem(path, str(message)))

    # -- the whole definition

    def definition(self, data: Any) -> Definition | None:
        if not isinstance(data, Mapping):
            self.fail("", _("A definition is an object with a source and a measure."))
            return None
        for key in sorted(set(data) - TOP_KEYS):
            self.fail(key, _("Unknown key; a definition has %(keys)s.") % {"keys": ", ".join(sorted(TOP_KEYS))})
        source = self.source(data.get("source"), "source")
        unit = self.choice(data.get("unit"), Unit, "unit")
        better = self.choice(data.get("better"), Better, "better")
        offset = data.get("offset", 0)
        if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= 12:
            self.fail("offset", _("The offset is a whole number of periods from 0 to 12."))
            offset = 0
        snapshot = None
        if source is not None and "snapshot" in data:
            snapshot = self.snapshot(data["snapshot"], source)
            if "date" in data:
                self.fail("date", _("A snapshot is taken at each period's end; it has no date field."))
            if offset:
                self.fail("offset", _("A snapshot cannot be offset."))
        date = None
        if source is not None and snapshot is None:
            date = self.date_field(source, data.get("date", source.date), "date")
        attribution = self.attribution(source, data.get("attribution"), "attribution") if source else None
        groupings = self.groupings(data.get("groupings"), source)
        if source is None:
            return None
        context = _Context(source, date, snapshot is not None, offset)
        filters = self.filters(data.get("filters", []), source, "filters")
        measure = self.measure(data.get("measure"), context, "measure")
        if measure is None or unit is None or better is None:
            return None
        return Definition(
            source=source.key,
            measure=measure,
            unit=unit,
            better=better,
            date=date,
            attribution=attribution,
            filters=filters,
            snapshot=snapshot,
            offset=offset,
            groupings=groupings,
            data=json.loads(canonical_json(data)),
        )

    def source(self, key: Any, path: str) -> Source | None:
        if not isinstance(key, str) or not key:
            self.fail(path, _("Name the source of the records (for example deals or leads)."))
            return None
        try:
            return get_source(key)
        except UnknownField as exc:
            self.fail(path, exc)
            return None

    def choice(self, value: Any, enum: type[StrEnum], path: str) -> Any:
        try:
            return enum(value)
        except ValueError:
            self.fail(path, _("'%(value)s' is not allowed; use one of %(all)s.") % {"value": value, "all": ", ".join(enum)})
            return None

    def field(self, source: Source, path: Any, where: str) -> FieldInfo | None:
        if not isinstance(path, str) or not path:
            self.fail(where, _("Name a field of %(source)s.") % {"source": source.name})
            return None
        try:
            return source.field(path)
        except UnknownField as exc:
            self.fail(where, exc)
            return None

    def date_field(self, source: Source, path: Any, where: str, *, datetime_only: bool = False) -> str | None:
        info = self.field(source, path, where)
        if info is None:
            return None
        wanted = {Kind.DATETIME} if datetime_only else DATES
        if info.kind not in wanted:
            dates = [f.path for f in source.fields() if f.kind in wanted]
            self.fail(
                where,
                _("'%(field)s' is not a date; use one of %(dates)s.")
                % {"field": info.path, "dates": ", ".join(dates) or _("(none on this source)")},
            )
            return None
        return info.path

    def attribution(self, source: Source, path: Any, where: str) -> str | None:
        if path is None:
            return None
        info = self.field(source, path, where)
        if info is None:
            return None
        if info.kind != Kind.LINK or info.target is None or info.target._meta.label != settings.AUTH_USER_MODEL:
            self.fail(where, _("'%(field)s' is not a person; attribute records to a link to a user.") % {"field": path})
            return None
        return info.path

    def groupings(self, value: Any, source: Source | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(g, str) for g in value):
            self.fail("groupings", _("Groupings are a list of dimension names (person, team, custom.<key> ...)."))
            return None
        for index, name in enumerate(value):
            if source is not None and name != "none" and (problem := dimensions.problem(source, name)):
                self.fail(f"groupings[{index}]", problem)
        return tuple(dict.fromkeys(["none", *value]))

    def snapshot(self, value: Any, source: Source) -> Snapshot | None:
        if not isinstance(value, Mapping) or set(value) != {"from", "until"}:
            self.fail("snapshot", _("A snapshot names the date a record starts counting (from) and stops (until)."))
            return None
        start = self.date_field(source, value["from"], "snapshot.from")
        end = self.date_field(source, value["until"], "snapshot.until")
        return Snapshot(start, end) if start and end else None

    # -- filters

    def filters(self, value: Any, source: Source, where: str) -> tuple[Filter, ...]:
        if not isinstance(value, list):
            self.fail(where, _("Filters are a list of {field, op, value} objects."))
            return ()
        out = []
        for index, item in enumerate(value):
            parsed = self.filter(item, source, f"{where}[{index}]")
            if parsed is not None:
                out.append(parsed)
        return tuple(out)

    def filter(self, item: Any, source: Source, where: str) -> Filter | None:
        if not isinstance(item, Mapping) or set(item) != {"field", "op", "value"}:
            self.fail(where, _("A filter is an object with exactly field, op and value."))
            return None
        if _names_dimension(source, item["field"]):
            return self.dimension_filter(item, source, where)
        info = self.field(source, item["field"], f"{where}.field")
        op = self.choice(item["op"], Op, f"{where}.op")
        if info is None or op is None:
            return None
        value = self.filter_value(info, op, item["value"], source, f"{where}.value")
        return None if value is _INVALID else Filter(info.path, op, value)

    def dimension_filter(self, item: Mapping[str, Any], source: Source, where: str) -> Filter | None:
        """A filter on a dimension's grouped value: a link's id, a text, a band (its label or a number in it), yes/no."""
        try:
            found = dimensions.dimension(source, item["field"])
        except dimensions.UnknownDimension as exc:
            self.fail(f"{where}.field", str(exc))
            return None
        op = self.choice(item["op"], Op, f"{where}.op")
        if op is None:
            return None
        value = item["value"]
        if op == Op.ISNULL:
            if not isinstance(value, bool):
                self.fail(f"{where}.value", _("isnull takes true or false."))
                return None
            return Filter(found.name, op, value, dimension=True)
        if op not in {Op.EQ, Op.NE, Op.IN, Op.NOT_IN}:
            self.fail(f"{where}.op", _("A dimension is filtered with eq, ne, in, not_in or isnull."))
            return None
        many = op in {Op.IN, Op.NOT_IN}
        if many and (not isinstance(value, list) or not value):
            self.fail(f"{where}.value", _("'%(op)s' takes a non-empty list of values.") % {"op": op})
            return None
        items = []
        for given in value if many else [value]:
            try:
                items.append(dimensions.filter_value(found, given))
            except ValueError as exc:
                self.fail(f"{where}.value", str(exc))
                return None
        return Filter(found.name, op, tuple(items) if many else items[0], dimension=True)

    def filter_value(self, info: FieldInfo, op: Op, value: Any, source: Source, where: str) -> Any:
        if op == Op.ISNULL:
            if not isinstance(value, bool):
                return self.invalid(where, _("isnull takes true or false."))
            return value
        if op in {Op.EXISTS, Op.NOT_EXISTS}:
            return self.related(info, value, where)
        if op in {Op.IN, Op.NOT_IN}:
            if not isinstance(value, list) or not value:
                return self.invalid(where, _("'%(op)s' takes a non-empty list of values.") % {"op": op})
            items = [self.literal(info, item, f"{where}[{i}]") for i, item in enumerate(value)]
            return _INVALID if _INVALID in items else tuple(items)
        if op == Op.CONTAINS:
            if info.kind != Kind.TEXT or not isinstance(value, str):
                return self.invalid(where, _("'contains' looks for text in a text field."))
            return value
        if isinstance(value, Mapping):
            if set(value) == {"now"} and value["now"] is True:
                if info.kind not in DATES:
                    return self.invalid(where, _("Only dates can be compared with now."))
                return Now()
            if set(value) == {"field"}:
                other = self.field(source, value["field"], f"{where}.field")
                if other is None:
                    return _INVALID
                if _comparable(info.kind) != _comparable(other.kind):
                    return self.invalid(where, _("'%(a)s' and '%(b)s' cannot be compared.") % {"a": info.path, "b": other.path})
                return FieldRef(other.path)
            return self.invalid(where, _('A value is a literal, {"field": name} or {"now": true}.'))
        if op in COMPARISONS and info.kind in {Kind.TEXT, Kind.BOOLEAN, Kind.LINK}:
            return self.invalid(where, _("'%(field)s' cannot be compared with %(op)s.") % {"field": info.path, "op": op})
        return self.literal(info, value, where)

    def literal(self, info: FieldInfo, value: Any, where: str) -> Any:
        kind = info.kind
        if value is None:
            return self.invalid(where, _("Use the isnull operator to find empty values."))
        if kind == Kind.BOOLEAN:
            return (
                value
                if isinstance(value, bool)
                else self.invalid(where, _("'%(field)s' is true or false.") % {"field": info.path})
            )
        if kind in MEASURABLE:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                return self.invalid(where, _("'%(field)s' is a number.") % {"field": info.path})
            try:
                number = Decimal(str(value))
            except InvalidOperation:
                return self.invalid(where, _("'%(value)s' is not a number.") % {"value": value})
            if not number.is_finite():
                return self.invalid(where, _("Use a finite number."))
            if number and not -NUMBER_DIGITS <= number.adjusted() < NUMBER_DIGITS:  # the databases' numbers overflow
                return self.invalid(where, _("'%(value)s' is out of range for a number.") % {"value": value})
            return value
        if kind in DATES:
            try:
                (dt.datetime if kind == Kind.DATETIME else dt.date).fromisoformat(str(value))
            except ValueError:
                return self.invalid(where, _("'%(value)s' is not an ISO date.") % {"value": value})
            return str(value)
        if kind == Kind.LINK:
            if isinstance(value, bool) or not isinstance(value, int) or not -(2**63) <= value < 2**63:  # a 64-bit id
                return self.invalid(where, _("'%(field)s' links to a record: give its id.") % {"field": info.path})
            return value
        if kind == Kind.TEXT:
            if not isinstance(value, str):
                return self.invalid(where, _("'%(field)s' is text.") % {"field": info.path})
            if info.choices and value not in info.choices:
                return self.invalid(
                    where,
                    _("'%(value)s' is not a value of %(field)s; use one of %(all)s.")
                    % {"value": value, "field": info.path, "all": ", ".join(info.choices)},
                )
            return value
        return self.invalid(where, _("'%(field)s' cannot be filtered on.") % {"field": info.path})

    def related(self, info: FieldInfo, value: Any, where: str) -> Any:
        keys = {"source", "link", "date", "when", "filters"}
        target = _own_model(info) or info.target
        if info.kind != Kind.LINK and target is None:
            return self.invalid(where, _("exists follows a link; '%(field)s' is not one.") % {"field": info.path})
        if not isinstance(value, Mapping) or not set(value) <= keys or not {"source", "link", "when"} <= set(value):
            return self.invalid(where, _("exists takes {source, link, when, date, filters}."))
        other = self.source(value["source"], f"{where}.source")
        if other is None:
            return _INVALID
        link = self.field(other, value["link"], f"{where}.link")
        if link is None:
            return _INVALID
        if link.target is not target:
            return self.invalid(
                f"{where}.link",
                _("'%(link)s' of %(source)s does not point where '%(field)s' does.")
                % {"link": link.path, "source": other.name, "field": info.path},
            )
        date = self.date_field(other, value.get("date", other.date), f"{where}.date")
        when = value["when"]
        if when not in WHEN:
            return self.invalid(f"{where}.when", _("when is one of %(all)s.") % {"all": ", ".join(WHEN)})
        filters = self.filters(value.get("filters", []), other, f"{where}.filters")
        return Related(other.key, link.path, date, when, filters) if date else _INVALID

    def invalid(self, where: str, message: Any) -> Any:
        self.fail(where, message)
        return _INVALID

    # -- measures

    def measure(self, data: Any, context: _Context, where: str) -> Measure | None:
        if not isinstance(data, Mapping) or "kind" not in data:
            self.fail(where, _("A measure is an object with a kind: %(kinds)s.") % {"kinds": ", ".join(MEASURE_KINDS)})
            return None
        for key in sorted(set(data) - MEASURE_KEYS):
            self.fail(f"{where}.{key}", _("Unknown key in a measure."))
        kind = data["kind"]
        if kind not in MEASURE_KINDS:
            self.fail(
                f"{where}.kind",
                _("'%(kind)s' is not a measure; use one of %(kinds)s.") % {"kind": kind, "kinds": ", ".join(MEASURE_KINDS)},
            )
            return None
        own = self.measure_context(data, context, where)
        if own is None:
            return None
        context = own
        source = context.source
        values: dict[str, Any] = {"kind": kind, "filters": self.filters(data.get("filters", []), source, f"{where}.filters")}
        if "source" in data:
            values.update(source=source.key, date=context.date)
            if data.get("attribution") is not None:
                values["attribution"] = self.attribution(source, data["attribution"], f"{where}.attribution")
        values.update(self.scale(data, where))
        cumulative = data.get("cumulative", False)
        if cumulative is not False:
            if cumulative is not True or kind not in {"count", "sum"}:
                self.fail(f"{where}.cumulative", _("Only counts and sums can be cumulative (true or false)."))
            elif context.snapshot or context.offset:
                self.fail(f"{where}.cumulative", _("A snapshot or an offset KPI cannot also be cumulative."))
            values["cumulative"] = True

        if kind in {"ratio", "difference"}:
            names = ("numerator", "denominator") if kind == "ratio" else ("left", "right")
            parts = []
            for name in names:
                if name not in data:
                    message = (
                        _("A ratio needs a denominator.") if name == "denominator" else _("Missing %(name)s.") % {"name": name}
                    )
                    self.fail(f"{where}.{name}", message)
                    continue
                part = self.measure(data[name], context, f"{where}.{name}")
                if part is not None:
                    parts.append(part)
            if len(parts) != 2:
                return None
            values["parts"] = tuple(parts)
        elif kind == "count":
            pass
        elif kind == "distinct":
            info = self.field(source, data.get("field"), f"{where}.field")
            if info is None:
                return None
            if context.snapshot:
                self.fail(where, _("Distinct counts cannot be taken from a snapshot."))
            values["field"] = info.path
        elif kind in {"sum", "avg"}:
            info = self.field(source, data.get("field"), f"{where}.field")
            if info is None:
                return None
            if info.kind not in MEASURABLE:
                verb = _("sum") if kind == "sum" else _("average")
                reason = str(_("it is a %(kind)s field") % {"kind": info.kind})
                if info.kind == Kind.LINK:
                    reason = str(_("it links to another record; count it or count its distinct values instead"))
                self.fail(
                    f"{where}.field",
                    _("Cannot %(verb)s '%(field)s': %(reason)s.") % {"verb": verb, "field": info.path, "reason": reason},
                )
                return None
            values["field"] = info.path
        elif kind == "duration":
            if context.snapshot:
                self.fail(where, _("A snapshot measures age, not duration."))
            start = self.date_field(source, data.get("start"), f"{where}.start", datetime_only=True)
            end = self.date_field(source, data.get("end"), f"{where}.end", datetime_only=True)
            values.update(start=start, end=end, per=self.per(data, where))
            if start is None or end is None:
                return None
        elif kind == "age":
            if not context.snapshot:
                self.fail(where, _("Age is measured at the end of each period: it needs a snapshot."))
            start = self.date_field(source, data.get("field"), f"{where}.field", datetime_only=True)
            values.update(field=start, per=self.per(data, where))
            if start is None:
                return None
        elif kind == "top_share":
            if context.snapshot or context.offset:
                self.fail(where, _("A top share is taken from the records of a period, not a snapshot or an offset."))
            info = self.field(source, data.get("field"), f"{where}.field")
            entity = self.field(source, data.get("entity"), f"{where}.entity")
            share = data.get("share")
            try:
                share_value = Decimal(str(share))
            except InvalidOperation:
                share_value = Decimal(0)
            if not Decimal(0) < share_value < Decimal(1) or isinstance(share, bool):
                self.fail(f"{where}.share", _("The share is a fraction between 0 and 1, such as 0.2."))
            if info is not None and info.kind not in MEASURABLE:
                self.fail(f"{where}.field", _("Cannot sum '%(field)s'.") % {"field": info.path})
            if entity is not None and entity.kind != Kind.LINK:
                self.fail(f"{where}.entity", _("The entity ranked is a link, such as company."))
            if info is None or entity is None:
                return None
            values.update(field=info.path, entity=entity.path, share=share_value)
        return Measure(**values)

    def measure_context(self, data: Mapping[str, Any], context: _Context, where: str) -> _Context | None:
        """A measure may read another source; it then has that source's date unless it names one."""
        if "source" not in data:
            for key in ("date", "attribution"):
                if key in data:
                    self.fail(f"{where}.{key}", _("Only a measure that names its own source sets its %(key)s.") % {"key": key})
            return context
        if context.snapshot:
            self.fail(f"{where}.source", _("A snapshot reads one source."))
            return None
        source = self.source(data["source"], f"{where}.source")
        if source is None:
            return None
        date = self.date_field(source, data.get("date", source.date), f"{where}.date")
        return _Context(source, date, False, context.offset) if date else None

    def per(self, data: Mapping[str, Any], where: str) -> str:
        per = data.get("per", "day")
        if per not in DURATION_PER:
            self.fail(f"{where}.per", _("per is one of %(all)s.") % {"all": ", ".join(DURATION_PER)})
            return "day"
        return per

    def scale(self, data: Mapping[str, Any], where: str) -> dict[str, Decimal]:
        out = {}
        for key in ("multiply_by", "divide_by"):
            if key not in data:
                continue
            value = data[key]
            try:
                number = Decimal(str(value))
            except InvalidOperation:
                number = Decimal(0)
            if isinstance(value, bool) or not number.is_finite() or number <= 0:
                self.fail(f"{where}.{key}", _("%(key)s is a positive number.") % {"key": key})
                continue
            out[key] = number
        return out


_INVALID = object()


def _comparable(kind: Kind) -> str:
    if kind in DATES:
        return "date"
    if kind in MEASURABLE:
        return "number"
    return kind.value


def _own_model(info: FieldInfo) -> type[models.Model] | None:
    """The model whose primary key `info` is: a record's `id` links to the record itself."""
    field = info.model_field
    return field.model if field is not None and getattr(field, "primary_key", False) else None
