"""What the forecast page shows for a period: the ranges of the company (or what the user sees) and of each team or
person, beside the revenue won so far and the won-revenue targets, and the chart of them; beside them the forecast
calls (each row's commit and manager's call, who may call for which row), how the calls moved over the period and how
right past calls were (forecasting.calls).

Targets are those of the won revenue KPI for exactly the period shown (a team's may be the sum of its members');
a row without one has no chance of reaching it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from quota.accounts.models import Team, User
from quota.core.calendar import local_midnight
from quota.core.permissions import forecast_call_team_ids
from quota.core.visibility import visible_owner_ids
from quota.dashboards.charts import Series, category_chart
from quota.dashboards.periods import Period, PeriodKey
from quota.forecasting.calls import (
    Accuracy,
    CallHistory,
    call_history,
    company_day,
    ended_periods,
    forecast_accuracy,
    latest_calls,
    period_of,
)
from quota.forecasting.forms import COMPANY, scope_key
from quota.forecasting.history import Waterfall, waterfall
from quota.forecasting.models import CallMethod, ForecastCall
from quota.forecasting.probability import ProbabilityMethod, probability_method
from quota.forecasting.ranges import RangeRow, Ranges, forecast_ranges
from quota.forecasting.selectors import WON_REVENUE
from quota.forecasting.targets import target_progress
from quota.kpi.definitions import Unit
from quota.kpi.layout import GroupKey
from quota.kpi.models import Target
from quota.kpi.periods import Every

GROUPINGS = ("team", "person")
ACCURACY_PERIODS = 3  # the ended periods the accuracy table measures


class CallsScopeError(ValueError):
    """A `?calls=` scope the user does not see, or one that names nothing."""


def call_period_label(start: dt.date, end: dt.date) -> str:
    """ "May 2026", "Q2 2026": the period a call is for."""
    return Period(PeriodKey.CUSTOM, start, end, period_of(start, end) or Every.NONE).label


@dataclass(frozen=True)
class RowCalls:
    """A row of the ranges table with the calls beside it."""

    row: RangeRow
    scope: str  # how the call form names it (forecasting.forms.scope_key)
    commit: Decimal | None  # a person's latest commit; a team's, its people's summed
    committed: int  # how many commits make it up
    adjusted: ForecastCall | None  # the latest manager's or director's call for the row
    may_call: bool


@dataclass(frozen=True)
class CallsSection:
    open: bool  # the period is a month or a quarter, not over: it takes calls
    start: dt.date
    end: dt.date
    table: list[RowCalls]
    company: dict[str, ForecastCall] = field(default_factory=dict)  # the company's latest calls, for those who see it
    may_call_company: bool = False
    history_scope: str = COMPANY
    history_label: str = ""
    history: CallHistory | None = None
    history_target: float | None = None
    accuracy: Accuracy | None = None

    @property
    def accuracy_methods(self) -> list[tuple[str, str]]:
        return [(str(value), str(label)) for value, label in CallMethod.choices]

    @property
    def accuracy_label(self) -> str:
        periods = self.accuracy.periods if self.accuracy else []
        return ", ".join(call_period_label(start, end) for start, end in periods)

    @property
    def history_chart(self) -> dict | None:
        """Each method's standing call by day, with the target and the revenue won so far."""
        history = self.history
        if history is None or not history.days:
            return None
        names = dict(CallMethod.choices)
        series = [Series(str(names[method]), values, Unit.MONEY, kind="line") for method, values in history.values.items()]
        series.append(Series(_("Won so far"), history.won, Unit.MONEY, kind="line", role="good"))
        if self.history_target is not None:
            series.append(Series(_("Target"), [self.history_target] * len(history.days), Unit.MONEY, kind="line", role="target"))
        return category_chart([date_format(day, "MONTH_DAY_FORMAT") for day in history.days], series)


@dataclass(frozen=True)
class ForecastPage:
    period: Period
    by: str
    overall: RangeRow
    ranges: Ranges
    closed: bool  # the period is over: its revenue is final, nothing is forecast
    waterfall: Waterfall  # how the period's pipeline moved from its start until now (or its end)
    probability: ProbabilityMethod  # what the deals' win probabilities are
    calibration: list[dict[str, Any]]  # the model's predicted vs actual win rate by band, on the deals it was tested on
    calls: CallsSection | None = None

    @property
    def waterfall_chart(self) -> dict:
        """The company's (or what the user sees) steps: where the pipeline began, what came and went, where it is."""
        total = self.waterfall.total
        labels = [
            _("Start"),
            _("New"),
            _("Moved in"),
            _("Increased"),
            _("Decreased"),
            _("Won"),
            _("Lost"),
            _("Moved out"),
            _("Now"),
        ]
        values = [total.start, *total.flows.values(), total.end]
        ins = [float(v) if i in (0, 8) or v > 0 else None for i, v in enumerate(values)]
        outs = [float(v) if 0 < i < 8 and v < 0 else None for i, v in enumerate(values)]
        return category_chart(
            labels,
            [
                Series(_("Pipeline and what came in"), ins, Unit.MONEY, role="good"),
                Series(_("What went out"), outs, Unit.MONEY, role="bad"),
            ],
            stacked=True,
        )

    @property
    def calibration_chart(self) -> dict | None:
        if not self.calibration:
            return None
        return category_chart(
            [band["band"] for band in self.calibration],
            [
                Series(
                    _("Predicted win rate"),
                    [band["predicted"] for band in self.calibration],
                    Unit.PERCENT,
                    kind="line",
                    role="previous",
                ),
                Series(_("Actual win rate"), [band["actual"] for band in self.calibration], Unit.PERCENT),
            ],
        )

    @property
    def rows(self) -> list[RangeRow]:
        return self.ranges.rows

    @property
    def chart(self) -> dict:
        """The range of each row as overlaid bars (P90 behind, P10 in front), with its target as a marker."""
        rows = self.rows
        series = [
            Series(_("P90"), [r.p90 for r in rows], Unit.MONEY, role="high"),
            Series(_("P50"), [r.p50 for r in rows], Unit.MONEY, role="middle"),
            Series(_("P10"), [r.p10 for r in rows], Unit.MONEY, role="low"),
        ]
        if any(r.target is not None for r in rows):
            series.append(Series(_("Target"), [r.target for r in rows], Unit.MONEY, kind="point", role="target"))
        labels = [r.group.label if r.group else _("Everything you see") for r in rows]
        return category_chart(labels, series, horizontal=True, overlaid=True)


def forecast_page(*, user: Any, period: Period, by: str, now: dt.datetime, calls_scope: str | None = None) -> ForecastPage:
    """The page; `calls_scope` chooses whose calls the history chart shows (CallsScopeError for one the user does not see)."""
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}")
    overall = forecast_ranges(user=user, start=period.start, end=period.end, targets=_targets(user, period, "none"))
    ranges = forecast_ranges(user=user, start=period.start, end=period.end, by=by, targets=_targets(user, period, by))
    began, ends = local_midnight(period.start), local_midnight(period.end + dt.timedelta(days=1))
    moved = waterfall(
        user=user,
        start_at=began,
        end_at=max(min(now, ends), began + dt.timedelta(seconds=1)),
        period_start=period.start,
        period_end=period.end,
        by=by,
    )
    method = probability_method()
    tested = (method.model.evaluation.get("calibration") or {}).get("model", []) if method.learned and method.model else []
    page = ForecastPage(
        period,
        by,
        overall.rows[0],
        ranges,
        closed=period.span.elapsed_share(now) >= 1,
        waterfall=moved,
        probability=method,
        calibration=tested,
    )
    return replace(page, calls=_calls_section(user, page, now, calls_scope))


def _calls_section(user: Any, page: ForecastPage, now: dt.datetime, chosen: str | None) -> CallsSection:
    period, by, today = page.period, page.by, company_day(now)
    kind = period_of(period.start, period.end)
    everything = visible_owner_ids(user) is None
    team_ids = forecast_call_team_ids(user)  # None: every team and the company
    ids = [row.group.id for row in page.rows if row.group and row.group.id is not None]
    latest = latest_calls(
        start=period.start,
        end=period.end,
        people=ids if by == "person" else (),
        teams=ids if by == "team" else (),
        member_teams=ids if by == "team" else (),
        company=everything,
    )
    teams_of = {} if by == "team" or team_ids is None else dict(User.objects.filter(pk__in=ids).values_list("pk", "team_id"))
    table = []
    for row in page.rows:
        group = row.key
        if by == "person":
            calls = latest.of_person(group)
            commit = calls.get(CallMethod.COMMIT)
            amount, count = (commit.amount, 1) if commit else (None, 0)
            may = group is not None and (team_ids is None or group == user.pk or teams_of.get(group) in team_ids)
        else:
            calls = latest.of_team(group)
            total, count = latest.commits_of_members(group)
            amount = total if count else None
            may = group is not None and (team_ids is None or group in team_ids)
        key = scope_key(user_id=group) if by == "person" else scope_key(team_id=group)
        table.append(RowCalls(row, key, amount, count, calls.get(CallMethod.ADJUSTED), may))
    scope, label, target = _history_scope(user, page, chosen, everything)
    user_id, team_id = _scope_ids(scope)
    history = call_history(viewer=user, start=period.start, end=period.end, today=today, user_id=user_id, team_id=team_id)
    every = kind or Every.MONTH
    accuracy = forecast_accuracy(user=user, periods=ended_periods(every, today, ACCURACY_PERIODS), by=by)
    return CallsSection(
        open=kind is not None and period.end >= today,
        start=period.start,
        end=period.end,
        table=table,
        company=latest.of_company() if everything else {},
        may_call_company=team_ids is None,
        history_scope=scope,
        history_label=label,
        history=history,
        history_target=target,
        accuracy=accuracy,
    )


def _scope_ids(scope: str) -> tuple[int | None, int | None]:
    kind, _sep, number = scope.partition(":")
    return (int(number), None) if kind == "person" else (None, int(number)) if kind == "team" else (None, None)


def _history_scope(user: Any, page: ForecastPage, chosen: str | None, everything: bool) -> tuple[str, str, float | None]:
    """Whose calls the chart shows (its form key, its name, its won revenue target): the one asked for if the user sees
    it, else the company for those who see everything, a manager's own team, or the person themself."""
    if not chosen:
        chosen = COMPANY if everything else scope_key(team_id=user.team_id) if user.team_id else scope_key(user_id=user.pk)
    if chosen == COMPANY:
        if not everything:
            raise CallsScopeError(_("Choose whose calls to chart among the people and teams you see."))
        return COMPANY, _("Company"), page.overall.target
    kind, _sep, number = chosen.partition(":")
    owners = visible_owner_ids(user)
    label: str | None = None
    if number.isdigit() and kind == "person" and (owners is None or int(number) in owners):
        person = User.objects.filter(pk=int(number)).values_list("first_name", "last_name", "username").first()
        label = User.label_of(*person) if person else None
    elif number.isdigit() and kind == "team":
        visible = everything or (user.team_id and int(number) in Team(pk=user.team_id).subtree_ids())
        label = Team.objects.filter(pk=int(number)).values_list("name", flat=True).first() if visible else None
    if label is None:
        raise CallsScopeError(_("Choose whose calls to chart among the people and teams you see."))
    grouping = "person" if kind == "person" else "team"
    row = page.ranges.for_group(int(number)) if page.by == grouping else None
    target = row.target if row else _targets(user, page.period, grouping).get(int(number))
    return chosen, label, target


def _targets(user: Any, period: Period, by: str) -> dict[GroupKey, float]:
    """The won revenue targets of exactly this period, by the group they are set for (None: the company)."""
    scope = {"none": Q(user__isnull=True, team__isnull=True), "team": Q(team__isnull=False), "person": Q(user__isnull=False)}
    targets = Target.objects.filter(scope[by], metric__key=WON_REVENUE, start=period.start, end=period.end).select_related(
        "metric"
    )
    out: dict[GroupKey, float] = {}
    for progress in target_progress(targets, user=user):
        if progress.value is not None:
            target = progress.target
            out[target.user_id if by == "person" else target.team_id if by == "team" else None] = float(progress.value)
    return out
