"""What a KPI can be grouped and filtered by: a dimension's name turned, per source, into SQL and labels.

    dimension(get_source("deals"), "company.size")   # the deal's company's size band
    dimension(get_source("leads"), "custom.region")  # the lead's own custom field `region`

Names:
- person, team (the KPI's attribution), and the links a source declares (`Source.dimensions`: source,
  stage, product);
- campaign, direction (the lead source's inbound/outbound), business_type (a deal's new or existing
  customer): found by following the source's links (`deal`, `lead`, `offer` ...) to the model that holds them;
- `custom.<key>`: the record's own custom field (sources whose model has custom fields: leads, deals,
  companies, contacts);
- `company.<industry|country|size>`, `company.custom.<key>`, `contact.custom.<key>`: the record's company or
  contact, found the same way (the record itself for a company or contact source).

Values: a link groups by the linked record's id; every other dimension groups by a value computed in SQL
(text, a band's number, yes/no), which the table keys by small integer codes (`Values`). Blank and missing
values are one group. Custom numbers fall in fixed decade bands (stable whatever the data: not quantiles);
custom dates by year and month; employees in the usual company size bands.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, models
from django.db.models import Case, Expression, F, FloatField, IntegerField, Q, TextField, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, NullIf, Substr
from django.db.models.lookups import GreaterThanOrEqual, In, IsNull, LessThan
from django.utils.translation import gettext as _

from quota.kpi.sources import Source

# Links a source's records reach other records through, tried in this order (a deal's company before its lead's).
VIA = ("deal", "lead", "offer", "order", "case", "campaign", "contact")
# Company sizes by employees: the lower edge of each band (the last is open).
SIZE_EDGES = (1, 10, 50, 250, 1000)
# Custom numbers: decade bands from 0 (below 0 is one band, 1,000,000 and more the last).
NUMBER_EDGES = (0, 1, 10, 100, 1_000, 10_000, 100_000, 1_000_000)
CUSTOM_TARGETS = ("company", "contact", "lead", "deal")


class UnknownDimension(LookupError):
    """A name that is no dimension of a source; the message lists those there are, closest first."""


@dataclass(frozen=True)
class Dimension:
    """One dimension on one source: the SQL value it groups by, what that value reads, and its labels."""

    name: str
    build: Callable[[], Expression | F]
    reads: tuple[str, ...]  # lookup paths read (walls, cache versions)
    missing: str  # the label of the blank group
    link: str | None = None  # a model label: values are its ids, labelled by its records
    label_of: Callable[[Any], str] = str  # for values that are not links
    order_of: Callable[[Any], Any] | None = None  # None: groups sorted by label
    filter_value: Callable[[str], Any] | None = None  # a filter's text as a grouped value (None: as given)

    def expression(self) -> Expression | F:
        return self.build()

    def condition(self, values: Sequence[Any]) -> Q:
        """Records whose value is one of `values` (None: the blank group)."""
        wanted = [v for v in values if v is not None]
        found = Q(In(self.build(), wanted)) if wanted else Q(pk__in=[])
        if None in values:
            found |= Q(IsNull(self.build(), True))
        return found


# -- finding the records a dimension reads -------------------------------------------------------------------------


def path_to(model: type[models.Model], target: str, depth: int = 2) -> str | None:
    """The lookup from `model` to the one record of model `target` it belongs to ("" for itself), or None."""
    if model._meta.label == target:
        return ""
    direct = [
        f.name
        for f in model._meta.concrete_fields
        if f.is_relation and f.related_model is not None and f.related_model._meta.label == target
    ]
    named = apps.get_model(target)._meta.model_name
    if named in direct or len(direct) == 1:  # a deal's `company`; its lead source's only link, `source`
        return named if named in direct else direct[0]
    if depth == 0:
        return None
    for name in VIA:
        try:
            field = model._meta.get_field(name)
        except Exception:
            continue
        if not (field.concrete and field.is_relation and field.many_to_one):
            continue
        rest = path_to(field.related_model, target, depth - 1)  # type: ignore[arg-type]
        if rest is not None:
            return f"{name}__{rest}" if rest else name
    return None


def _join(path: str, name: str) -> str:
    return f"{path}__{name}" if path else name


# -- the dimensions ---------------------------------------------------------------------------------------------------


def dimension(source: Source, name: str, attribution: str | None = None) -> Dimension:
    """The dimension `name` on `source` (`attribution`: whose person and team), or UnknownDimension saying why."""
    found = _dimension(source, name, attribution or source.attribution)
    if found is None:
        raise UnknownDimension(unknown_message(source, name))
    return found


def problem(source: Source, name: str) -> str | None:
    """Why `source` cannot be grouped by `name`, or None."""
    try:
        dimension(source, name)
    except UnknownDimension as exc:
        return str(exc)
    return None


def is_builtin(source: Source, name: str) -> bool:
    """Whether `name` is a dimension of `source` that is no custom field (known without reading the database)."""
    return "." not in name and _dimension(source, name, source.attribution) is not None


def unknown_message(source: Source, name: str) -> str:
    possible = names(source)
    close = difflib.get_close_matches(name, possible, n=3, cutoff=0.6)
    message = _("%(source)s have no %(name)s to group or filter by.") % {"source": source.name.capitalize(), "name": name}
    if close:
        message += " " + _("Did you mean %(close)s?") % {"close": ", ".join(close)}
    return message + " " + _("They can be grouped by %(all)s.") % {"all": ", ".join(possible)}


def names(source: Source) -> list[str]:
    """Every dimension of `source`, built-ins first, then company, contact and custom fields."""
    out = ["person", "team", *source.dimensions]
    model = source.model
    for name, target, _field in LINKED:
        if name not in out and path_to(model, target) is not None:
            out.append(name)
    if path_to(model, "crm.Deal") is not None:
        out.append("business_type")
    company, contact = path_to(model, "crm.Company"), path_to(model, "crm.Contact")
    own = custom_target(model)
    if own:
        out += [f"custom.{key}" for key in _custom_fields(own)]
    if company is not None:
        out += [f"company.{attribute}" for attribute in COMPANY_ATTRIBUTES]
        out += [f"company.custom.{key}" for key in _custom_fields("company")]
    if contact is not None:
        out += [f"contact.custom.{key}" for key in _custom_fields("contact")]
    return out


def custom_target(model: type[models.Model]) -> str | None:
    """The custom field target of a model's own `custom` values (its model name), or None if it has none."""
    name = model._meta.model_name
    has_custom = any(f.name == "custom" for f in model._meta.concrete_fields)
    return name if has_custom and model._meta.app_label == "crm" and name in CUSTOM_TARGETS else None


def _dimension(source: Source, name: str, attribution: str) -> Dimension | None:
    if name == "person":
        return _link(name, attribution, settings.AUTH_USER_MODEL, _("Unassigned"))
    if name == "team":
        return _link(name, _join(attribution, "team"), "accounts.Team", _("No team"))
    if name in source.dimensions:
        declared = source.dimensions[name]
        linked_to = _related_label(source.model, declared)
        assert linked_to is not None, "a source's dimensions are links"
        return _link(name, declared, linked_to, {"source": _("No source"), "stage": _("No stage")}.get(name, _("None")))
    for linked, target, field_name in LINKED:
        if name == linked:
            path = path_to(source.model, target)
            if path is None:
                return None
            if field_name is None:
                return _link(name, path or "pk", target, _("None"))
            return _choice(name, _join(path, field_name), apps.get_model(target)._meta.get_field(field_name))
    if name == "business_type":
        path = path_to(source.model, "crm.Deal")
        if path is None:
            return None
        return _choice(name, _join(path, "business_type"), apps.get_model("crm.Deal")._meta.get_field("business_type"))
    scope, _dot, rest = name.partition(".")
    if scope == "custom" and rest:
        own = custom_target(source.model)
        return _custom(name, "", own, rest) if own else None
    if scope in {"company", "contact"} and rest:
        path = path_to(source.model, f"crm.{scope.capitalize()}")
        if path is None:
            return None
        kind, _dot, key = rest.partition(".")
        if kind == "custom" and key:
            return _custom(name, path, scope, key)
        if scope == "company" and rest in COMPANY_ATTRIBUTES:
            return COMPANY_ATTRIBUTES[rest](name, path)
    return None


def _related_label(model: type[models.Model], path: str) -> str | None:
    for part in path.split("__"):
        related = model._meta.get_field(part).related_model
        if related is None:
            return None
        model = related
    return model._meta.label


def _link(name: str, path: str, model: str, missing: str) -> Dimension:
    return Dimension(name, lambda: F(path), (path,), missing, link=model)


def _choice(name: str, path: str, field: Any) -> Dimension:
    """A text field with choices: grouped by value, labelled by the choice's label, in the choices' order."""
    labels = {str(value): str(label) for value, label in field.choices}
    order = list(labels)
    return Dimension(
        name,
        lambda: NullIf(F(path), Value("")),
        (path,),
        _("(none)"),
        label_of=lambda value: labels.get(value, str(value)),
        order_of=lambda value: (order.index(value) if value in labels else len(order), str(value)),
    )


def _text(name: str, path: str) -> Dimension:
    return Dimension(name, lambda: NullIf(F(path), Value("")), (path,), _("(blank)"))


def _size(name: str, path: str) -> Dimension:
    employees = _join(path, "employees")
    return Dimension(
        name,
        lambda: _banded(F(employees), SIZE_EDGES, below=False),
        (employees,),
        _("(blank)"),
        label_of=lambda band: _band_label(SIZE_EDGES, band, whole=True),
        order_of=lambda band: band,
        filter_value=lambda text: _band_of_label(SIZE_EDGES, text, whole=True),
    )


COMPANY_ATTRIBUTES: dict[str, Callable[[str, str], Dimension]] = {
    "industry": lambda name, path: _text(name, _join(path, "industry")),
    "country": lambda name, path: _text(name, _join(path, "country")),
    "size": _size,
}
# Dimensions found by following links: (name, the model reached, its field grouped by; None: the record itself).
LINKED: tuple[tuple[str, str, str | None], ...] = (
    ("campaign", "marketing.Campaign", None),
    ("direction", "crm.LeadSource", "direction"),
)


# -- custom fields ------------------------------------------------------------------------------------------------


def _custom_fields(target: str) -> dict[str, Any]:
    from quota.crm.custom_fields import definitions

    return dict(sorted(definitions(target).items()))


def _custom(name: str, path: str, target: str, key: str) -> Dimension | None:
    from quota.crm.choices import CustomFieldType

    field = _custom_fields(target).get(key)
    if field is None:
        return None
    column = _join(path, "custom")
    reads = (column,)

    def text() -> Expression:
        return NullIf(KeyTextTransform(key, column), Value(""), output_field=TextField())

    kind = field.field_type
    if kind == CustomFieldType.NUMBER:
        return Dimension(
            name,
            lambda: _banded(Cast(text(), FloatField()), NUMBER_EDGES, below=True),
            reads,
            _("(blank)"),
            label_of=lambda band: _band_label(NUMBER_EDGES, band, whole=False),
            order_of=lambda band: band,
            filter_value=lambda value: _band_of_label(NUMBER_EDGES, value, whole=False),
        )
    if kind == CustomFieldType.BOOLEAN:
        flag = f"{column}__{key}"
        return Dimension(
            name,
            lambda: Case(
                When(Q(**{flag: True}), then=Value(1)), When(Q(**{flag: False}), then=Value(2)), output_field=IntegerField()
            ),
            reads,
            _("(blank)"),
            label_of=lambda value: _("yes") if value == 1 else _("no"),
            order_of=lambda value: value,
            filter_value=_yes_no,
        )
    if kind == CustomFieldType.DATE:  # by year and month: "2026-03"
        return Dimension(name, lambda: Substr(text(), 1, 7), reads, _("(blank)"), filter_value=lambda value: value[:7])
    if kind == CustomFieldType.CHOICE:
        order = [str(c) for c in field.choices]
        return Dimension(
            name,
            text,
            reads,
            _("(blank)"),
            order_of=lambda value: (order.index(value) if value in order else len(order), str(value)),
        )
    return Dimension(name, text, reads, _("(blank)"))


def _yes_no(text: str) -> int:
    word = text.strip().casefold()
    if word in {"yes", "true", "1", str(_("yes")).casefold()}:
        return 1
    if word in {"no", "false", "0", str(_("no")).casefold()}:
        return 2
    raise ValueError(_("'%(value)s' is not yes or no.") % {"value": text})


# -- bands ----------------------------------------------------------------------------------------------------------


def _banded(value: Any, edges: Sequence[int], *, below: bool) -> Case:
    """The band a number falls in: 0 below the first edge (when `below`), then 1, 2 ... from each edge up; NULL stays NULL."""
    whens = [When(GreaterThanOrEqual(value, edge), then=Value(len(edges) - index)) for index, edge in enumerate(reversed(edges))]
    if below:
        whens.append(When(LessThan(value, edges[0]), then=Value(0)))
    return Case(*whens, output_field=IntegerField())


def _band_label(edges: Sequence[int], band: int, *, whole: bool) -> str:
    if band == 0:
        return _("below %(edge)s") % {"edge": f"{edges[0]:,}"}
    low = edges[band - 1]
    if band == len(edges):
        return _("%(low)s or more") % {"low": f"{low:,}"}
    high = edges[band]
    if whole:  # whole numbers (employees): 10-49
        return f"{low:,}–{high - 1:,}"
    return _("%(low)s to under %(high)s") % {"low": f"{low:,}", "high": f"{high:,}"}


def _band_of_label(edges: Sequence[int], text: str, *, whole: bool) -> int:
    """A filter's band, given as its label ("10–49") or a number in it."""
    labels = {_band_label(edges, band, whole=whole).casefold(): band for band in range(0 if not whole else 1, len(edges) + 1)}
    cleaned = text.strip().casefold().replace("-", "–")
    if cleaned in labels:
        return labels[cleaned]
    try:
        number = float(text.replace(",", ""))
    except ValueError:
        raise ValueError(
            _("'%(value)s' is no band; use a number or one of %(bands)s.") % {"value": text, "bands": ", ".join(labels)}
        ) from None
    if number < edges[0]:
        if whole:
            raise ValueError(_("%(value)s is below the first band.") % {"value": text})
        return 0
    return sum(1 for edge in edges if number >= edge)


# -- values and labels ----------------------------------------------------------------------------------------------


class Values:
    """Group values that are not ids (text, bands) as small integer codes, so the table keys every grouping alike."""

    def __init__(self) -> None:
        self.codes: dict[Any, int] = {}
        self.values: list[Any] = []

    def code(self, value: Any) -> int | None:
        if value is None:
            return None
        code = self.codes.get(value)
        if code is None:
            code = self.codes[value] = len(self.values)
            self.values.append(value)
        return code


def labels(found: Dimension, ids: Iterable[int | None], values: Values, using: str = DEFAULT_DB_ALIAS) -> dict[int | None, str]:
    """The label of each group key (None: the blank group)."""
    out: dict[int | None, str] = {None: found.missing}
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return out
    if found.link is None:
        out.update({code: found.label_of(values.values[code]) for code in wanted})
        return out
    model = apps.get_model(found.link)
    rows = model._default_manager.db_manager(using).filter(pk__in=wanted)
    if found.link == settings.AUTH_USER_MODEL:  # names, not a user object each (a director's team can be hundreds)
        names = rows.values_list("pk", "first_name", "last_name", "username")
        out.update({pk: model.label_of(first, last, username) for pk, first, last, username in names})
        return out
    if found.link == "crm.Stage":
        rows = rows.select_related("pipeline")
    out.update({row.pk: str(row) for row in rows})
    return out


def sort_key(found: Dimension, values: Values) -> Callable[[int | None, str], Any]:
    """How groups are ordered: the blank group last; bands and choices in their order, the rest by label."""
    if found.order_of is None or found.link is not None:
        return lambda key, label: (key is None, label.casefold())
    order = found.order_of
    return lambda key, label: (key is None, order(values.values[key]) if key is not None else 0, label.casefold())


def filter_value(found: Dimension, given: Any) -> Any:
    """A filter's value as the dimension groups by it: an id for a link, a band's number, 1/2 for yes/no, text."""
    if found.link is not None:
        if isinstance(given, bool) or not isinstance(given, int):
            raise ValueError(_("'%(name)s' is filtered by the id of a record.") % {"name": found.name})
        return given
    if isinstance(given, bool):
        given = "yes" if given else "no"
    if not isinstance(given, str | int | float):
        raise ValueError(_("'%(name)s' is filtered by a text or a number.") % {"name": found.name})
    return found.filter_value(str(given)) if found.filter_value else str(given)


def title(name: str, source: Source | None = None) -> str:
    """A dimension's name for people: "Company size", "Contract" (a custom field's label), "Lead source"."""
    fixed = {
        "person": _("Person"),
        "team": _("Team"),
        "source": _("Lead source"),
        "stage": _("Stage"),
        "product": _("Product"),
        "campaign": _("Campaign"),
        "direction": _("Inbound or outbound"),
        "business_type": _("New or existing customer"),
        "company.industry": _("Company industry"),
        "company.country": _("Company country"),
        "company.size": _("Company size"),
    }
    if name in fixed:
        return str(fixed[name])
    scope, _dot, key = name.rpartition(".")
    target = {"company.custom": "company", "contact.custom": "contact"}.get(scope)
    if scope == "custom" and source is not None:
        target = custom_target(source.model)
    field = _custom_fields(target).get(key) if target else None
    if field is None:
        return name
    if scope == "custom":
        return field.label
    owner = _("Company") if target == "company" else _("Contact")
    return f"{owner}: {field.label}"


def offered(sources: Iterable[Source]) -> list[str]:
    """The dimensions every one of `sources` has, in the first one's order (what a KPI over them can be grouped by)."""
    listed = [names(source) for source in sources]
    if not listed:
        return []
    return [name for name in listed[0] if all(name in others for others in listed[1:])]
