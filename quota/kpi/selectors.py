"""Read paths built on the engine: one KPI's values (CLI and API), progress against many targets at once,
the targets someone may see, loss-making customers."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from quota.accounts.models import Team
from quota.core.visibility import visible_owner_ids
from quota.kpi import definitions
from quota.kpi.definitions import DefinitionError, Op, Problem
from quota.kpi.engine import KpiResult, UnknownKpi, evaluate, evaluate_spans, unknown_kpi_message
from quota.kpi.formatting import as_json
from quota.kpi.models import Metric, Target, TeamTarget
from quota.kpi.periods import Every, Span, add_months, inclusive
from quota.kpi.queries import Scope, in_range
from quota.kpi.sources import Kind, get_source
from quota.kpi.targets import Progress, progress
from quota.sales.models import OrderStatus

SCOPE_GROUPING = {"person": "person", "team": "team", "company": "none"}
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

    `where` narrows the KPI to records matching more filters ([{"field", "op", "value"}] on the KPI's own source,
    checked as a definition's filters are); a filter naming a person outside the user's walls is refused.
    Raises UnknownKpi, GroupingNotSupported, WhereError, or DefinitionError for a stored definition that no longer
    passes the checks.
    """
    metric = Metric.objects.current().filter(key=key).first()
    if metric is None:
        raise UnknownKpi(unknown_kpi_message(key))
    if not where:
        return evaluate([metric], user=user, start=start, end=end, every=every, by=by)[metric.key]
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
        info = source.field(item.field)
        people = info.kind == Kind.LINK and info.target is not None and info.target._meta.label == settings.AUTH_USER_MODEL
        named = item.value if isinstance(item.value, tuple) else (item.value,)
        if people and seen is not None and any(isinstance(v, int) and v not in seen for v in named):
            problems.append(Problem(f"{where}.value", _("You see the figures of your team only; name one of its people.")))
    return problems


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
class TargetProgress:
    target: Target
    value: Decimal | None  # the target's value; for a members' sum, the sum (None if no member has one)
    progress: Progress | None  # None when a members' sum has nothing to sum
    computed_at: dt.datetime


def target_progress(
    targets: Iterable[Target], *, user: Any, now: dt.datetime | None = None, using: str = DEFAULT_DB_ALIAS
) -> list[TargetProgress]:
    """Actual, attainment, pace, status and forecast for each target, as `user` may see the records.

    Queries do not grow with the number of targets, people or periods: one evaluation per scope
    (person, team, company) covers every KPI version and period among the targets, plus one query
    for team targets that are the sum of their members' targets.
    """
    targets = list(targets)
    now = now or timezone.now()
    member_sums = _member_sums([t for t in targets if t.team_target == TeamTarget.MEMBERS], using)
    by_scope: dict[str, list[Target]] = defaultdict(list)
    for target in targets:
        by_scope[target.scope].append(target)

    out: dict[int, TargetProgress] = {}
    for scope, items in by_scope.items():
        metrics = list({t.metric_id: t.metric for t in items}.values())
        spans = sorted({_span(t) for t in items}, key=lambda s: (s.start, s.end))
        wanted = {t.user_id if scope == "person" else t.team_id for t in items}
        values = evaluate_spans(metrics, spans, user=user, by=SCOPE_GROUPING[scope], groups=wanted, using=using)
        for target in items:
            goal = member_sums.get(target.pk) if target.team_target == TeamTarget.MEMBERS else target.value
            group = target.user_id if scope == "person" else target.team_id
            state = None
            if goal is not None:
                definition = target.metric.parsed
                state = progress(
                    actual=values.value(target.metric, _span(target), group),
                    target=goal,
                    elapsed=_span(target).elapsed_share(now),
                    better=definition.better,
                    cumulative=definition.is_cumulative,
                )
            out[target.pk] = TargetProgress(target, goal, state, values.computed_at)
    return [out[t.pk] for t in targets]


def _span(target: Target) -> Span:
    return inclusive(target.start, target.end)


def _member_sums(targets: list[Target], using: str) -> dict[int, Decimal]:
    """The sum of the members' own targets for the same KPI version and period, per team target (one query)."""
    if not targets:
        return {}
    rows = (
        Target.objects.using(using)
        .filter(
            metric_id__in={t.metric_id for t in targets},
            user__team_id__in={t.team_id for t in targets},
            start__in={t.start for t in targets},
            end__in={t.end for t in targets},
        )
        .values("metric_id", "start", "end", members_team=F("user__team_id"))
        .annotate(total=Sum("value"))
        .order_by()
    )
    totals = {(r["metric_id"], r["members_team"], r["start"], r["end"]): r["total"] for r in rows}
    return {
        t.pk: totals[(t.metric_id, t.team_id, t.start, t.end)]
        for t in targets
        if (t.metric_id, t.team_id, t.start, t.end) in totals
    }


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
