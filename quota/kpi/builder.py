"""The KPI builder: a new KPI in a few choices, previewed before it is saved.

Choices (all names are checked against the models by `definitions.parse`; nothing is evaluated):
    source       deals, leads, activities, ... (sources.SOURCES)
    measure      count | distinct | sum | avg | duration | ratio
    field        what is counted distinctly, summed or averaged (the numerator's, for a ratio)
    start, end   for a duration: from which date to which
    per          for a duration: day | hour | minute
    filters      [{"field", "op", "value"}] that every record counted must match
    date         the date that places a record in a period (default: the source's usual one)
    attribution  the person a record counts for (default: the source's owner)
    ratio        numerator: `ratio_of` (count | distinct | sum) of `field`, with `numerator_filters`;
                 denominator: `denominator` (count | distinct | sum) of `denominator_field`, with
                 `denominator_filters` (both on top of `filters`)
    unit, better as in definitions.py (a unit is guessed from the measure when left out)
    groupings    the dimensions (kpi.dimensions) it may be grouped by, comma-separated; empty: any
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from quota.core.permissions import require
from quota.kpi import definitions
from quota.kpi.catalogue import BY_KEY
from quota.kpi.definitions import Definition, DefinitionError, Problem
from quota.kpi.engine import PREVIEW_KEY, KpiResult, evaluate
from quota.kpi.models import KEY_VALIDATOR, Metric
from quota.kpi.services import metric_retire, metric_save_version
from quota.kpi.sources import Kind, UnknownField, get_source

MEASURES = ("count", "distinct", "sum", "avg", "duration", "ratio")
RATIO_PARTS = ("count", "distinct", "sum")


def definition_data(choices: Mapping[str, Any]) -> dict[str, Any]:
    """The definition (JSON) the choices describe; `build` checks it."""
    measure_kind = choices.get("measure") or ""
    data: dict[str, Any] = {"source": choices.get("source"), "better": choices.get("better") or "higher"}
    for key in ("date", "attribution"):
        if choices.get(key):
            data[key] = choices[key]
    if choices.get("filters"):
        data["filters"] = list(choices["filters"])
    measure: dict[str, Any] = {"kind": measure_kind}
    if measure_kind in {"distinct", "sum", "avg"}:
        measure["field"] = choices.get("field")
    elif measure_kind == "duration":
        measure.update(start=choices.get("start"), end=choices.get("end"), per=choices.get("per") or "day")
    elif measure_kind == "ratio":
        measure["numerator"] = _part(choices.get("ratio_of") or "count", choices.get("field"), choices.get("numerator_filters"))
        if choices.get("denominator"):
            measure["denominator"] = _part(
                choices["denominator"], choices.get("denominator_field"), choices.get("denominator_filters")
            )
    data["measure"] = measure
    data["unit"] = choices.get("unit") or _guess_unit(choices)
    groupings = [name.strip() for name in (choices.get("groupings") or "").split(",") if name.strip()]
    if groupings:
        data["groupings"] = groupings
    return data


def _part(kind: str, field: str | None, filters: Any) -> dict[str, Any]:
    part: dict[str, Any] = {"kind": kind}
    if kind != "count":
        part["field"] = field
    if filters:
        part["filters"] = list(filters)
    return part


def _guess_unit(choices: Mapping[str, Any]) -> str:
    measure = choices.get("measure")
    if measure == "ratio":
        return "percent"
    if measure == "duration":
        return {"hour": "hours", "minute": "minutes"}.get(choices.get("per") or "day", "days")
    if measure in {"sum", "avg"}:
        try:
            kind = get_source(choices.get("source") or "").field(choices.get("field") or "").kind
        except UnknownField:
            return "count"  # parse() reports the unknown source or field
        return "money" if kind == Kind.MONEY else "count"
    return "count"


def build(choices: Mapping[str, Any]) -> Definition:
    """The checked definition, or DefinitionError saying what cannot be computed and why."""
    if choices.get("measure") not in MEASURES:
        raise definitions.DefinitionError(
            [Problem("measure.kind", _("Choose a measure: %(all)s.") % {"all": ", ".join(MEASURES)})]
        )
    return definitions.parse(definition_data(choices))


def preview(
    definition: Definition, *, user: Any, start: dt.date, end: dt.date, every: str = "month", by: str = "none"
) -> KpiResult:
    """The values a definition gives, as `user` would see them, without saving anything.

    Only those who define KPIs preview them: a preview runs any definition, so it is a query tool.
    """
    require(user, "kpi.define")
    return evaluate([definition], user=user, start=start, end=end, every=every, by=by)[PREVIEW_KEY]


def save(*, definition: Definition, key: str, name: str, description: str, by: Any) -> Metric:
    """Save a custom KPI (a new version when the key exists). Administrators and directors define KPIs."""
    require(by, "kpi.define")
    if is_builtin_key(key):
        raise ValidationError({"key": _("'%(key)s' is a built-in KPI; choose another key.") % {"key": key}})
    return metric_save_version(key=key, name=name, description=description, definition=definition, by=by)


def define(*, key: str, name: str, description: str, data: Any, by: Any) -> Metric:
    """Check and save a custom KPI given as the definition JSON the builder saves (the API and `quota kpi define`).

    Every problem is a ValidationError under the field it concerns ("key", "definition" with the builder's
    messages, "name"...); nothing is saved then. The same definition with other words renames the current
    version; another definition is a new version.
    """
    require(by, "kpi.define")
    errors: dict[str, list[str]] = {}
    try:
        KEY_VALIDATOR(key)
    except ValidationError as exc:
        errors["key"] = exc.messages
    else:
        if is_builtin_key(key):
            errors["key"] = [_("'%(key)s' is a built-in KPI; choose another key.") % {"key": key}]
    try:
        definition = definitions.parse(data)
    except DefinitionError as exc:
        errors["definition"] = [str(problem) for problem in exc.problems]
    if errors:
        raise ValidationError(errors)
    current = Metric.objects.current().filter(key=key).first()
    if current is not None and definitions.canonical_json(current.definition) == definition.canonical():
        return rename(metric=current, name=name, description=description)
    return save(definition=definition, key=key, name=name, description=description, by=by)


def rename(*, metric: Metric, name: str, description: str) -> Metric:
    """New words for the same numbers: the version stays (as the catalogue's renames)."""
    metric.name, metric.description = name, description
    metric.full_clean(validate_unique=False, validate_constraints=False)
    metric.save(update_fields=["name", "description"])
    return metric


def retire(*, key: str, by: Any) -> None:
    """Take a custom KPI out of use: no version stays current; its versions stay for the targets set against them."""
    require(by, "kpi.define")
    if is_builtin_key(key):
        raise ValidationError({"key": _("'%(key)s' is a built-in KPI; only custom KPIs are removed.") % {"key": key}})
    metric_retire(key=key, by=by)


def is_builtin_key(key: str) -> bool:
    """Built-in keys (also retired ones) are not free for custom KPIs."""
    return key in BY_KEY or Metric.objects.filter(key=key, is_builtin=True).exists()
