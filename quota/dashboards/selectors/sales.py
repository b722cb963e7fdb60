"""The sales dashboard's sections: pipeline funnel, lead sources, won and lost deals, the sales race, teams.

Each section is one engine call for the period (`every="none"`), grouped by source, person or team in
the same query, or filtered to each stage or loss reason, plus at most one small lookup (stages, loss
reasons, targets).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from quota.core.filtersets import open_moment
from quota.crm.models import Deal, LeadSource, LossReason, Stage
from quota.crm.selectors import open_at, stage_at
from quota.dashboards.periods import Period
from quota.dashboards.records import catalogue_definition, records_link
from quota.dashboards.selectors.common import labels_by_group, values_by_group
from quota.forecasting.targets import TargetProgress, target_progress
from quota.kpi.catalogue import BY_KEY, eq, has
from quota.kpi.definitions import Unit
from quota.kpi.dimensions import dimension
from quota.kpi.engine import Value, current_versions, evaluate
from quota.kpi.layout import GroupKey
from quota.kpi.models import Metric, Target
from quota.kpi.plans import plan
from quota.kpi.sources import get_source

# -------------------------------------------------------------------------- pipeline funnel


@dataclass(frozen=True)
class FunnelStep:
    stage_id: int
    label: str
    deals: int
    value: float
    weighted: float
    records_url: str = ""  # the deals behind the step, as they stood at the period's end


@dataclass(frozen=True)
class Funnel:
    steps: list[FunnelStep]
    computed_at: dt.datetime


def open_by_stage_metrics(stages: Iterable[Stage] | None = None) -> list[Metric]:
    """Per stage, the deals open in it now and their value: two KPIs filtered to the stage (default: every stage).

    Filters on the deal's own fields, evaluated as a whole (`by="none"`): so rollups keep them (the dashboards app
    registers them, `roll_up_too`) and the funnel reads days of rollups instead of every open deal. A stage added
    since rollups were built is read from its deals (through the open deals' stage index) until the periodic task
    builds its leaves.
    """
    stages = Stage.objects.order_by("pk") if stages is None else stages
    return [
        metric.narrowed(_stage_key(what, stage), eq("stage", stage.pk))
        for stage in stages
        for what, metric in (("deals", _OPEN_DEALS), ("value", _OPEN_VALUE))
    ]


def _open_now(measure: dict[str, Any], unit: str) -> Metric:
    definition = {
        "source": "deals",
        "date": "created_at",
        "filters": [eq("status", "open")],
        "measure": {**measure, "cumulative": True},
        "unit": unit,
        "better": "higher",
    }
    return Metric(key="open_now", name="open_now", definition=definition)


_OPEN_DEALS = _open_now({"kind": "count"}, "count")
_OPEN_VALUE = _open_now({"kind": "sum", "field": "amount"}, "money")


def _stage_key(what: str, stage: Stage) -> str:
    return f"open_{what}_stage_{stage.pk}"


def pipeline_funnel(*, user: Any, period: Period, today: dt.date) -> Funnel:
    """Deals open at the period's end (now, for the current period) per stage, in the pipelines' stage order.

    A past period's deals are each in the stage they were in at its end (the stage history says which);
    the current period's are in their stage now. A stage's weighted value is its value times its probability,
    as the weighted pipeline weighs each deal.
    """
    ordered = list(Stage.objects.select_related("pipeline").order_by("-pipeline__is_default", "pipeline__name", "position"))
    if period.end < today:
        deals, value, weighted = open_deals_by_stage_then(user=user, day=period.end)
        computed_at = timezone.now()
    else:
        deals, value, weighted, computed_at = _open_by_stage_now(user=user, period=period, stages=ordered)
    stages = [stage for stage in ordered if stage.pk in deals]
    several_pipelines = len({s.pipeline_id for s in stages}) > 1
    open_deals = catalogue_definition("open_deals")
    steps = []
    for stage in stages:
        link = records_link(
            open_deals, start=period.start, end=period.end, today=today, by="stage", group=stage.pk, stage_then=True
        )
        steps.append(
            FunnelStep(
                stage.pk,
                str(stage) if several_pipelines else stage.display_name,
                int(deals.get(stage.pk) or 0),
                float(value.get(stage.pk) or 0),
                float(weighted.get(stage.pk) or 0),
                link.url if link else "",
            )
        )
    return Funnel(steps, computed_at)


def _open_by_stage_now(
    *, user: Any, period: Period, stages: list[Stage]
) -> tuple[dict[GroupKey, Value], dict[GroupKey, Value], dict[GroupKey, Value], dt.datetime]:
    """The deals open now per stage that has any, their value and weighted value (value x the stage's probability)."""
    metrics = open_by_stage_metrics(stages)
    evaluation = evaluate(metrics, user=user, start=period.start, end=period.end, every="none", compare=False)
    deals: dict[GroupKey, Value] = {}
    value: dict[GroupKey, Value] = {}
    weighted: dict[GroupKey, Value] = {}
    for stage in stages:
        count = evaluation[_stage_key("deals", stage)].points[0].value
        if count:
            deals[stage.pk] = count
            value[stage.pk] = evaluation[_stage_key("value", stage)].points[0].value
            weighted[stage.pk] = float(value[stage.pk] or 0) * stage.probability / 100
    return deals, value, weighted, evaluation.computed_at


def open_deals_by_stage_then(*, user: Any, day: dt.date) -> tuple[dict[GroupKey, Value], ...]:
    """Open deals, their value and weighted value at the end of `day`, per the stage each was in then: one grouped query.

    Counted as the snapshot KPIs count (open_deals, pipeline_value, weighted_pipeline), so the stages add up to them.
    """
    moment = open_moment(day)
    deals = get_source("deals")
    rows = (
        Deal.objects.visible_to(user)
        .filter(open_at(moment))
        .annotate(stage_then=stage_at(moment))
        .values("stage_then")
        .annotate(deals=Count("pk"), value=Sum(deals.value("amount")), weighted=Sum(deals.value("weighted_amount")))
        .order_by()
    )
    out: tuple[dict[GroupKey, Value], ...] = ({}, {}, {})
    for row in rows:
        for column, key in zip(out, ("deals", "value", "weighted"), strict=True):
            column[row["stage_then"]] = row[key]
    return out


# -------------------------------------------------------------------------- lead sources


@dataclass(frozen=True)
class SourceRow:
    source_id: GroupKey
    label: str
    values: dict[str, Value]
    cells: list[tuple[Value, Unit]]  # the values in the order of the columns, for tables
    leads_url: str  # the source's leads created in the period


@dataclass(frozen=True)
class BySource:
    columns: list[tuple[str, str, Unit]]  # key, name, unit
    rows: list[SourceRow]
    computed_at: dt.datetime


def by_source(keys: list[str], *, user: Any, period: Period) -> BySource:
    """KPIs per lead source for the period, the sources with the most of the first KPI first.

    A KPI counted on records that name their source themselves (leads, deals) is evaluated filtered to each source,
    as the funnel is to each stage, so rollups answer it (`per_source_metrics`); any other (the cost of a customer,
    whose spend is its campaigns') is grouped by source. Both give each source the same figure.
    """
    split = _split_by_source(keys)
    grouped = [key for key in keys if key not in {metric.key for metric in split}]
    sources = list(LeadSource.objects.order_by("pk"))
    values: dict[str, dict[GroupKey, Value]] = {}
    labels: dict[GroupKey, str] = {}
    columns: dict[str, tuple[str, str, Unit]] = {}
    computed_at = timezone.now()
    if split:
        evaluation = evaluate(
            per_source_metrics(split, sources), user=user, start=period.start, end=period.end, every="none", compare=False
        )
        computed_at = evaluation.computed_at
        for metric in split:
            columns[metric.key] = (metric.key, metric.display_name, metric.unit)
            values[metric.key] = {
                source: evaluation[_source_key(metric, source)].points[0].value for source in [*(s.pk for s in sources), None]
            }
        names = {source.pk: str(source) for source in sources} | {None: dimension(get_source("leads"), "source").missing}
        labels = {source: names[source] for source in names if any(values[key][source] for key in values)}
    if grouped:
        evaluation = evaluate(grouped, user=user, start=period.start, end=period.end, every="none", by="source", compare=False)
        computed_at = evaluation.computed_at
        for result in evaluation:
            columns[result.key] = (result.key, result.name, result.unit)
            values[result.key] = values_by_group(result)
        labels.update(labels_by_group(*evaluation))
    source_keys: dict[GroupKey, str] = {source.pk: source.key for source in sources}
    shown = [columns[key] for key in keys if key in columns]
    leads = catalogue_definition("new_leads")
    rows = []
    for group, label in labels.items():
        link = records_link(
            leads,
            start=period.start,
            end=period.end,
            today=period.end,
            by="source",
            group=group,
            group_value=source_keys.get(group),
        )
        row_values = {key: values[key].get(group) for key, _name, _unit in shown}
        rows.append(
            SourceRow(group, label, row_values, [(row_values[key], unit) for key, _name, unit in shown], link.url if link else "")
        )
    rows.sort(key=lambda row: (-(row.values[keys[0]] or 0), row.source_id is None, row.label.casefold()))
    return BySource(shown, rows, computed_at)


def source_split_metrics(keys: list[str]) -> list[Metric]:
    """The KPIs of `keys` that `by_source` reads filtered to each source, as it reads them."""
    split = _split_by_source(keys)
    return per_source_metrics(split, LeadSource.objects.order_by("pk")) if split else []


def _split_by_source(keys: list[str]) -> list[Metric]:
    """The current versions of the KPIs of `keys` whose records all name their lead source themselves: a filter on
    it then gives each source's figure."""
    metrics = current_versions(keys)
    return [metrics[key] for key in keys if key in metrics and _names_its_source(metrics[key])]


def _names_its_source(metric: Metric) -> bool:
    definition = metric.parsed
    sources = {leaf.source for leaf in plan(definition).leaves}
    return sources == {definition.source} and get_source(definition.source).dimensions.get("source") == "source"


def per_source_metrics(metrics: Iterable[Metric], sources: Iterable[LeadSource]) -> list[Metric]:
    """Each KPI filtered to each lead source, and to records without one: filters on the record's own field, so
    rollups keep them (the dashboards app registers those of the boards' KPIs, `roll_up_too`)."""
    return [
        metric.narrowed(_source_key(metric, pk), has("source", False) if pk is None else eq("source", pk))
        for pk in [*(source.pk for source in sources), None]
        for metric in metrics
    ]


def _source_key(metric: Metric, source: int | None) -> str:
    return f"{metric.key}_source_{source if source is not None else 'none'}"


# -------------------------------------------------------------------------- won and lost


@dataclass(frozen=True)
class Outcome:
    label: str
    deals: int
    won: bool
    reason_id: int | None = None


@dataclass(frozen=True)
class WinLoss:
    won: int
    lost: int
    outcomes: list[Outcome]  # won first, then each loss reason, most frequent first
    computed_at: dt.datetime


def lost_by_reason_metrics(reasons: Iterable[LossReason] | None = None) -> list[Metric]:
    """Per loss reason, the deals lost for it (default: every reason): a count filtered to the reason.

    Loss reasons are not an engine grouping, so each is a filtered count in the same query. Filters on the deal's
    own fields: so rollups keep them (the dashboards app registers them, `roll_up_too`) and the won and lost section
    reads days of rollups instead of the period's closed deals.
    """
    reasons = LossReason.objects.order_by("pk") if reasons is None else reasons
    return [
        _LOST_DEALS.narrowed(_reason_key(reason), eq("loss_reason", reason.pk), name=reason.display_name) for reason in reasons
    ]


# The catalogue's lost deals, narrowed to each reason: the reasons add up to the section's lost deals.
_LOST_DEALS = Metric(key="lost_deals", name="lost_deals", definition=BY_KEY["lost_deals"].definition)


def _reason_key(reason: LossReason) -> str:
    return f"lost_reason_{reason.pk}"


def win_loss(*, user: Any, period: Period) -> WinLoss:
    """Deals won and lost in the period (by close date), the lost ones by reason."""
    reasons = {_reason_key(reason): reason for reason in LossReason.objects.order_by("pk")}
    metrics = lost_by_reason_metrics(reasons.values())
    evaluation = evaluate(
        [*metrics, "won_deals", "lost_deals"], user=user, start=period.start, end=period.end, every="none", compare=False
    )
    won = int(evaluation["won_deals"].points[0].value or 0)
    lost = int(evaluation["lost_deals"].points[0].value or 0)
    losses = [
        Outcome(reasons[key].display_name, int(evaluation[key].points[0].value or 0), False, reasons[key].pk)
        for key in reasons
        if evaluation[key].points[0].value
    ]
    losses.sort(key=lambda outcome: -outcome.deals)
    return WinLoss(won, lost, [Outcome(_("Won"), won, True), *losses], evaluation.computed_at)


# -------------------------------------------------------------------------- sales race


@dataclass(frozen=True)
class Racer:
    person_id: int
    label: str
    won: float
    deals: int
    target: float | None
    attainment: float | None
    is_me: bool


@dataclass(frozen=True)
class SalesRace:
    by_value: list[Racer]
    by_attainment: list[Racer]  # only people with a won revenue target for the period
    computed_at: dt.datetime


def sales_race(*, user: Any, period: Period, now: dt.datetime, size: int = 10) -> SalesRace:
    """Sellers by won revenue, and by attainment of their won revenue target, for the period."""
    evaluation = evaluate(
        ["won_revenue", "won_deals"], user=user, start=period.start, end=period.end, every="none", by="person", compare=False
    )
    won, deals = values_by_group(evaluation["won_revenue"]), values_by_group(evaluation["won_deals"])
    labels = labels_by_group(*evaluation)
    targets = Target.objects.filter(
        metric__key="won_revenue", metric__is_current=True, start=period.start, end=period.end, user__isnull=False
    ).select_related("metric", "user")
    progress = {state.target.user_id: state for state in target_progress(targets, user=user, now=now)}
    labels.update({person: str(state.target.user) for person, state in progress.items() if person not in labels})
    racers = [
        Racer(
            person_id=person,
            label=label,
            won=float(won.get(person) or 0),
            deals=int(deals.get(person) or 0),
            target=_goal(progress.get(person)),
            attainment=_attainment(progress.get(person)),
            is_me=person == user.pk,
        )
        for person, label in labels.items()
        if person is not None
    ]
    by_value = sorted(racers, key=lambda r: (-r.won, r.label))[:size]
    by_attainment = sorted((r for r in racers if r.attainment is not None), key=lambda r: (-(r.attainment or 0), r.label))[:size]
    return SalesRace(by_value, by_attainment, evaluation.computed_at)


def _goal(state: TargetProgress | None) -> float | None:
    return float(state.value) if state is not None and state.value is not None else None


def _attainment(state: Any) -> float | None:
    return state.progress.attainment if state is not None and state.progress is not None else None


# -------------------------------------------------------------------------- teams

TEAM_KPIS = ["won_revenue", "won_deals", "win_rate", "pipeline_value", "new_leads"]


@dataclass(frozen=True)
class TeamRow:
    team_id: GroupKey
    label: str
    values: dict[str, Value]
    cells: list[tuple[Value, Unit]]
    target: float | None
    attainment: float | None


@dataclass(frozen=True)
class TeamComparison:
    columns: list[tuple[str, str, Unit]]
    rows: list[TeamRow]
    computed_at: dt.datetime


def team_comparison(*, user: Any, period: Period, now: dt.datetime) -> TeamComparison:
    """Each team's results for the period, with attainment of its won revenue target, the best first."""
    evaluation = evaluate(TEAM_KPIS, user=user, start=period.start, end=period.end, every="none", by="team", compare=False)
    values = {key: values_by_group(evaluation[key]) for key in TEAM_KPIS}
    targets = Target.objects.filter(
        metric__key="won_revenue",
        metric__is_current=True,
        start=period.start,
        end=period.end,
        team__isnull=False,
        user__isnull=True,
    ).select_related("metric")
    progress = {state.target.team_id: state for state in target_progress(targets, user=user, now=now)}
    units = {result.key: result.unit for result in evaluation}
    rows = [
        TeamRow(
            team,
            label,
            {key: values[key].get(team) for key in TEAM_KPIS},
            [(values[key].get(team), units[key]) for key in TEAM_KPIS],
            _goal(progress.get(team)),
            _attainment(progress.get(team)),
        )
        for team, label in labels_by_group(*evaluation).items()
    ]
    rows.sort(key=lambda row: (row.team_id is None, -(row.values["won_revenue"] or 0)))
    return TeamComparison([(r.key, r.name, r.unit) for r in evaluation], rows, evaluation.computed_at)
