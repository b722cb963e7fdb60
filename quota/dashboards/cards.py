"""KPI cards: a value with its target, attainment, pace and trend, and when it was computed.

All the cards of a dashboard are read together: one `evaluate_spans` call for the values of the
period so far and of the same days of the previous period (one grouped query per source and date
field), one query for the targets and one `target_progress` call for their attainment and pace.
The cost grows with the number of KPIs shown, never with the records, people or periods behind them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from quota.dashboards.access import Scope
from quota.dashboards.periods import Period, range_label
from quota.forecasting.ranges import RangeRow
from quota.forecasting.targets import TargetProgress, target_progress
from quota.kpi.definitions import Better, Unit
from quota.kpi.engine import current_versions, evaluate, evaluate_spans
from quota.kpi.formatting import as_text, change_text, share_text
from quota.kpi.models import Metric, Target
from quota.kpi.periods import Span, company_zone
from quota.kpi.targets import Progress, Status

Value = int | float | None
ADDITIVE = {"count", "distinct", "sum", "difference"}


@dataclass(frozen=True)
class Trend:
    direction: str  # "up", "down" or "flat"
    good: bool | None  # whether the change is an improvement (None when flat)
    text: str  # "+12.5%", "+2.1 pp" for rates, "+4.0 pts" for scores

    @property
    def tone(self) -> str:
        return "flat" if self.good is None else "good" if self.good else "bad"


def trend(value: Value, previous: Value, *, unit: Unit, better: Better) -> Trend | None:
    """The change from `previous` to `value` (see `kpi.formatting.change_text`); None when either is undefined."""
    if value is None or previous is None:
        return None
    delta = float(value) - float(previous)
    if abs(delta) < 1e-9:
        return Trend("flat", None, "±0")
    return Trend("up" if delta > 0 else "down", (delta > 0) == (better == Better.HIGHER), change_text(value, previous, unit))


@dataclass(frozen=True)
class Card:
    key: str
    name: str
    description: str
    unit: Unit
    better: Better
    value: Value
    previous: Value
    computed_at: dt.datetime
    url: str  # the KPI page, or the records behind a KPI that has none
    compared_with: str = ""  # the days the trend compares with
    target: float | None = None
    progress: Progress | None = None
    unavailable: str = ""  # why this KPI has no value for the card's scope
    card_id: int | None = None  # a card the user added (and may remove)
    scope: str = ""  # the scope's key (`me`, `team:<id>`, `company`), as its links carry it
    # Won revenue's target in a period under way: the forecast's ranges and chance of reaching it (the target's own,
    # forecasting.targets), which the board's forecast card shows rather than reading them again.
    outlook: RangeRow | None = None

    @property
    def raw_value(self) -> str:
        """The value unformatted, for machines (`data-value`): "" when undefined or unavailable."""
        return "" if self.unavailable else raw_number(self.value, self.unit)

    @property
    def value_text(self) -> str:
        return as_text(self.value, self.unit)

    @property
    def target_text(self) -> str:
        return as_text(self.target, self.unit) if self.target is not None else ""

    @property
    def attainment_text(self) -> str:
        return share_text(self.progress.attainment if self.progress else None)

    @property
    def pace_text(self) -> str:
        return share_text(self.progress.pace if self.progress else None)

    @property
    def status(self) -> Status | None:
        return self.progress.status if self.progress else None

    @property
    def trend(self) -> Trend | None:
        return trend(self.value, self.previous, unit=self.unit, better=self.better)

    @property
    def better_text(self) -> str:
        return _("higher is better") if self.better == Better.HIGHER else _("lower is better")


@dataclass(frozen=True)
class CardRequest:
    """A card to show: a saved KPI by key, or an unsaved definition (a Metric not in the database) with its own link."""

    key: str
    metric: Metric | None = None
    url: str = ""
    card_id: int | None = None


def raw_number(value: Value, unit: Unit) -> str:
    """A number as plain text with a dot (money to the cent, counts whole); "" for None."""
    if value is None:
        return ""
    if unit == Unit.MONEY:
        return f"{float(value):.2f}"
    if isinstance(value, int) or (unit == Unit.COUNT and float(value).is_integer()):
        return str(int(value))
    return repr(float(value))


def company_today(now: dt.datetime) -> dt.date:
    return timezone.localtime(now, company_zone()).date()


def kpi_cards(
    requests: Sequence[CardRequest], *, user: object, scope: Scope, period: Period, query: str, now: dt.datetime | None = None
) -> list[Card]:
    """The cards asked for, in order; `query` (the period's GET parameters) is kept on the links to the KPI pages."""
    now = now or timezone.now()
    today = company_today(now)
    spans = (period.to_date(today), period.previous_to_date(today))
    keys = [r.key for r in requests if r.metric is None]
    saved = current_versions(keys) if keys else {}
    metrics = {r.key: r.metric or saved.get(r.key) for r in requests}
    shown = {key: m for key, m in metrics.items() if m is not None and not m.parsed.grouping_problem(scope.by)}

    values = _values([m for m in shown.values() if m.pk], spans, user=user, scope=scope)
    values.update(_unsaved_values([m for m in shown.values() if not m.pk], spans, user=user, scope=scope))
    progress = _progress([m for m in shown.values() if m.pk], period=period, scope=scope, user=user, now=now)

    compared_with = range_label(spans[1].start, spans[1].end - dt.timedelta(days=1)) if spans[1].days > 0 else ""
    cards = []
    for request in requests:
        metric = metrics[request.key]
        if metric is None:
            continue  # a KPI deleted since the user added it to their dashboard
        value, previous, computed_at = values.get(request.key, (None, None, now))
        state = progress.get(request.key)
        cards.append(
            Card(
                key=request.key,
                name=metric.display_name,
                description=metric.display_description,
                unit=metric.unit,
                better=metric.better,
                value=value,
                previous=previous,
                computed_at=computed_at,
                url=request.url or f"{reverse('dashboards:kpi', args=[request.key])}?{query}&{urlencode({'scope': scope.key})}",
                compared_with=compared_with,
                target=float(state.value) if state and state.value is not None else None,
                progress=state.progress if state else None,
                unavailable="" if request.key in shown else _("Not available for one person."),
                card_id=request.card_id,
                scope=scope.key,
                outlook=state.outlook if state else None,
            )
        )
    return cards


def _values(metrics: list[Metric], spans: tuple[Span, Span], *, user: object, scope: Scope) -> dict[str, tuple]:
    if not metrics:
        return {}
    values = evaluate_spans(metrics, spans, user=user, by=scope.by, groups=[scope.group])
    return {
        m.key: (values.value(m, spans[0], scope.group), values.value(m, spans[1], scope.group), values.computed_at)
        for m in metrics
    }


def _unsaved_values(metrics: list[Metric], spans: tuple[Span, Span], *, user: object, scope: Scope) -> dict[str, tuple]:
    """Definitions that are not saved KPIs (`evaluate_spans` keys by id): one evaluation per window."""
    if not metrics:
        return {}
    # A group without records: 0 for counts and sums, undefined for rates and averages (as the engine fills them).
    empty = {m.key: 0 if m.parsed.measure.kind in ADDITIVE else None for m in metrics}
    out: dict[str, list] = {m.key: [empty[m.key], empty[m.key], timezone.now()] for m in metrics}
    for index, span in enumerate(spans):
        if span.days <= 0:
            continue
        last_day = span.end - dt.timedelta(days=1)
        evaluation = evaluate(metrics, user=user, start=span.start, end=last_day, every="none", by=scope.by, compare=False)
        for result in evaluation:
            point = result.point(None, scope.group)
            out[result.key][index] = point.value if point else empty[result.key]
            out[result.key][2] = evaluation.computed_at
    return {key: tuple(value) for key, value in out.items()}


def _progress(
    metrics: list[Metric], *, period: Period, scope: Scope, user: object, now: dt.datetime
) -> dict[str, TargetProgress]:
    """Targets set for exactly this period and scope, with their attainment and pace."""
    if not metrics:
        return {}
    targets = Target.objects.filter(metric__in=metrics, start=period.start, end=period.end, **scope.target_filter).select_related(
        "metric"
    )
    return {state.target.metric.key: state for state in target_progress(targets, user=user, now=now)}
