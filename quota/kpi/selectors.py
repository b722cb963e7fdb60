"""Read paths built on the engine: one KPI's values (CLI and API), the targets someone may see, loss-making
customers. (Progress against targets, with the forecast, is forecasting.targets.)"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from quota.accounts.models import Team
from quota.core.inputs import load_json
from quota.core.visibility import visible_owner_ids
from quota.kpi import definitions
from quota.kpi.definitions import DefinitionError, Op, Problem
from quota.kpi.dimensions import UnknownDimension, dimension
from quota.kpi.engine import KpiResult, UnknownKpi, evaluate, unknown_kpi_message
from quota.kpi.formatting import as_json
from quota.kpi.models import Metric, Target
from quota.kpi.periods import Every, add_months, inclusive
from quota.kpi.queries import Scope, in_range
from quota.kpi.sources import Kind, get_source
from quota.sales.models import OrderStatus

WHERE_OPS = tuple(op for op in Op if op not in {Op.EXISTS, Op.NOT_EXISTS})


class WhereError(DefinitionError):
    """`where` filters that cannot apply; their problems' paths start with "where"."""


def default_range(start: dt.date | None, end: dt.date | None, *, today: dt.date) -> tuple[dt.date, dt.date]:
    """The range a KPI is read over when not given: up to today, from the first of the month a year earlier (13 months)."""
    end = end or today
    return start or add_months(end.replace(day=1), -12), end


def kpi_values(
    key: str,
    *,
    user: Any,
    start: dt.date,
    end: dt.date,
    every: Every | str = Every.MONTH,
    by: str = "none",
    where: Any = None,
) -> KpiResult:
    """One KPI's values per period and group as `user` may see them (None: everything), for `quota kpi eval` and the API.

    `where` narrows the KPI to records matching more filters: "<dimension>=<value>" texts (`segment_filters`) or
    [{"field", "op", "value"}] on the KPI's own source, checked as a definition's filters are; a filter naming a
    person outside the user's walls is refused.
    Raises UnknownKpi, GroupingNotSupported, WhereError, or DefinitionError for a stored definition that no longer
    passes the checks.
    """
    metric = Metric.objects.current().filter(key=key).first()
    if metric is None:
        raise UnknownKpi(unknown_kpi_message(key))
    if not where:
        return evaluate([metric], user=user, start=start, end=end, every=every, by=by)[metric.key]
    if isinstance(where, list) and any(isinstance(item, str) for item in where):
        where = segment_filters(metric.parsed.source, where, user=user)
    narrowed = _narrowed(metric, where, user)
    result = evaluate([narrowed], user=user, start=start, end=end, every=every, by=by)
    return replace(next(iter(result)), key=metric.key, version=metric.version, name=metric.display_name)


def _narrowed(metric: Metric, where: Any, user: Any) -> definitions.Definition:
    """The metric's definition with the `where` filters added to its own (after checking them alone, for their paths)."""
    parsed = metric.parsed
    if not isinstance(where, list):
        raise WhereError([Problem("where", _("Filters are a list of {field, op, value} objects."))])
    alone = {"source": parsed.source, "measure": {"kind": "count"}, "unit": "count", "better": "higher", "filters": where}
    try:
        checked = definitions.parse(alone)
    except DefinitionError as exc:
        raise WhereError([Problem("where" + p.path.removeprefix("filters"), p.message) for p in exc.problems]) from None
    problems = _walled(checked.filters, parsed.source, user)
    if problems:
        raise WhereError(problems)
    data = dict(metric.definition)
    data["filters"] = [*data.get("filters", []), *where]
    return definitions.parse(data)


def _walled(filters: tuple[definitions.Filter, ...], source_key: str, user: Any) -> list[Problem]:
    """Problems with filters that follow links to other records, or name people the user does not see."""
    source = get_source(source_key)
    seen = visible_owner_ids(user) if user is not None else None
    problems = []
    for index, item in enumerate(filters):
        where = f"where[{index}]"
        if item.op not in WHERE_OPS:
            problems.append(
                Problem(
                    f"{where}.op",
                    _("'%(op)s' is not allowed here; use one of %(all)s.") % {"op": item.op, "all": ", ".join(WHERE_OPS)},
                )
            )
            continue
        if item.dimension:
            people = dimension(source, item.field).link == settings.AUTH_USER_MODEL
        else:
            info = source.field(item.field)
            people = info.kind == Kind.LINK and info.target is not None and info.target._meta.label == settings.AUTH_USER_MODEL
        named = item.value if isinstance(item.value, tuple) else (item.value,)
        if people and seen is not None and any(isinstance(v, int) and v not in seen for v in named):
            problems.append(Problem(f"{where}.value", _("You see the figures of your team only; name one of its people.")))
    return problems


def where_items(texts: list[str]) -> list[Any]:
    """Repeated `where` texts as one list: "<dimension>=<value>" each, or a JSON list of filters (starting with "[").

    Raises ValueError for JSON that does not read.
    """
    items: list[Any] = []
    for text in texts:
        if text.lstrip().startswith(("[", "{")):
            loaded = load_json(text)
            items.extend(loaded if isinstance(loaded, list) else [loaded])
        else:
            items.append(text)
    return items


def segment_filters(source_key: str, items: list[Any], *, user: Any = None) -> list[Any]:
    """`where` items as definition filters: "<dimension>=<value>" texts become filters on the dimension.

    A link's value may be its record's id, key or name (`source=website`, `team=Sales North`; every record
    of that name, e.g. the Won stage of each pipeline); an empty value is the blank group (`custom.region=`).
    Filter objects pass as they are. WhereError says which item matches nothing: `user` (None: system work) finds
    only the records they may see, so a name beyond their walls is "nothing", as one that does not exist.
    """
    source = get_source(source_key)
    out: list[Any] = []
    problems = []
    for index, item in enumerate(items):
        if not isinstance(item, str):
            out.append(item)
            continue
        name, equals, value = item.partition("=")
        name, value = name.strip(), value.strip()
        where = f"where[{index}]"
        if not equals or not name:
            problems.append(Problem(where, _("Write a filter as <dimension>=<value>, e.g. custom.region=North.")))
            continue
        try:
            found = dimension(source, name)
        except UnknownDimension as exc:
            problems.append(Problem(where, str(exc)))
            continue
        if not value:
            out.append({"field": name, "op": "isnull", "value": True})
        elif found.link is None:
            out.append({"field": name, "op": "eq", "value": value})
        else:
            ids = linked_ids(found.link, value, user=user)
            if ids:
                out.append({"field": name, "op": "in", "value": ids})
            else:
                problems.append(
                    Problem(where, _("No %(what)s is '%(value)s'.") % {"what": _model_name(found.link), "value": value})
                )
    if problems:
        raise WhereError(problems)
    return out


def linked_ids(model_label: str, value: str, *, user: Any = None) -> list[int]:
    """The records `value` names that `user` may see (None: all): an id, or a key, name, username or SKU
    (case-insensitive)."""
    model = apps.get_model(model_label)
    rows = model._default_manager.all()
    if user is not None and model_label == settings.AUTH_USER_MODEL:
        seen = visible_owner_ids(user)
        rows = rows if seen is None else rows.filter(pk__in=seen)
    elif user is not None and hasattr(rows, "visible_to"):
        rows = rows.visible_to(user)
    if value.isdigit():
        return list(rows.filter(pk=int(value)).values_list("pk", flat=True))
    fields = {f.name for f in model._meta.concrete_fields}
    named = Q()
    for field in ("key", "name", "username", "sku"):
        if field in fields:
            named |= Q(**{f"{field}__iexact": value})
    if not named:
        return []
    return sorted(rows.filter(named).values_list("pk", flat=True))


def _model_name(model_label: str) -> str:
    return str(apps.get_model(model_label)._meta.verbose_name)


def value_rows(result: KpiResult) -> list[dict[str, Any]]:
    """The values as JSON rows: what `quota kpi eval --format json` prints and the API's values endpoint returns."""
    return [
        {
            "period": p.period.isoformat() if p.period else None,
            "group": p.group.label if p.group else None,
            "value": as_json(p.value, result.unit),
            "previous": as_json(p.previous, result.unit),
            "last_year": as_json(p.last_year, result.unit),
            "computed_at": result.computed_at.isoformat(),
        }
        for p in result.points
    ]


@dataclass(frozen=True)
class LossMaker:
    company_id: int
    name: str
    profit: Decimal  # negative, in the company currency


def loss_making_customers(*, user: Any, start: dt.date, end: dt.date, using: str = DEFAULT_DB_ALIAS) -> list[LossMaker]:
    """Customers whose orders placed from `start` to `end` (not cancelled) cost more than they brought, worst first."""
    orders = get_source("orders")
    window = inclusive(start, end)
    rows = (
        Scope(user=user, using=using, now=timezone.now())
        .queryset(orders)
        .filter(in_range(orders, "ordered_at", window.start, window.end))
        .exclude(status=OrderStatus.CANCELLED)
        .values("company_id", "company__name")
        .annotate(total=Sum(orders.value("profit")))
        .filter(total__lt=0)
        .order_by("total", "company__name")
    )
    return [LossMaker(r["company_id"], r["company__name"], r["total"]) for r in rows]


def visible_targets(user: Any) -> QuerySet[Target]:
    """The targets whose figures `user` may see: everyone's for those who read everything; otherwise the people
    they read, their team and its sub-teams (not the company's, whose actual they would see only a part of)."""
    targets = Target.objects.select_related("metric", "user", "team")
    people = visible_owner_ids(user)
    if people is None:
        return targets
    teams = Team(pk=user.team_id).subtree_ids() if user.team_id else []
    return targets.filter(Q(user_id__in=people) | Q(team_id__in=teams))
