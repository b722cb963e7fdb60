"""Targets for the demo company, set the way a sales operations team sets them: from each one's own history.

Every seller (reps and the managers who sell too), every sales team and the company get a target
for won revenue, won deals, new leads, calls, meetings held and e-mails sent for each of the last
13 months and this month, and for this quarter and this year; each team and the company also get
a win-rate target. A month's target is what the history says to expect:

    the run rate of the 12 months before it (per unit of expected business) x the month's expected business

where the expected business of a day follows the company's calendar (the season, the weekday, a
growing business: see seed.clock), so December asks for more than August and a short month for
less. Quarter and year targets add up their months; a team's won revenue and won deals targets are
set directly (the sum of its sellers' plans), its other targets are the sum of its members'
targets; win rates are the trailing 12 months' won / closed. Values are rounded to two significant
digits, as people write targets down.

Targets come from the data, so attainment varies as it does in real life, and the history ends
today, so this month's figures are month-to-date. On top of the plan a few targets are chosen
against the actual run rate (actual / share of the period gone), so that the demo tells its story
whatever the day: this month one rep is clearly ahead on won revenue (the best of them against
plan: at least 130 % of the pace; in the month's first days, already at target) and one clearly off
pace (the worst: at most 60 %); the demo `rep` is short of their meetings target, and the company of
its new leads target, last month and this month (this month's from the day the product starts
warning, before that the plan stands). All of it is read back through the KPI engine (seed tests), never computed beside it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
from django.contrib.auth import get_user_model
from django.db import transaction

from quota.accounts.models import Role
from quota.kpi.engine import evaluate_spans
from quota.kpi.models import Metric, Target, TargetPeriod, TeamTarget, period_bounds
from quota.kpi.periods import Every, add_months, floor, inclusive, local_midnight
from quota.notifications import conf
from quota.seed.clock import GROWTH_PER_YEAR, HISTORY_DAYS, MONTH_ACTIVITY, WEEKDAY_ACTIVITY, Clock

SELLER_KPIS = ("won_revenue", "won_deals", "new_leads", "calls_made", "meetings_held", "emails_sent")
TEAM_SETS_DIRECTLY = ("won_revenue", "won_deals")  # the team's own number; its other targets are its members' sum
WIN_RATE = "win_rate"
PAST_MONTHS = 13
TRAILING_MONTHS = 12
# The story (paces: share of the target reached / share of the period gone).
AHEAD_PACE = 1.3
OFF_PACE = 0.6
SHORT_PACE = 0.7  # the demo rep's meetings and the company's new leads
DEMO_REP = "rep"
EPOCH_DAY = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class Scope:
    """Whose target: a person (user id), a team (team id) or the company (neither)."""

    user: int | None = None
    team: int | None = None


@dataclass
class TargetPlan:
    """The targets to write: the months' first, then this quarter's and this year's (see seed.early_warnings)."""

    months: list[Target] = field(default_factory=list)
    periods: list[Target] = field(default_factory=list)


def month_weights(months: list[dt.date], today: dt.date) -> np.ndarray:
    """The expected business of each month (given by its first day): its days' season x weekday x growth, added up."""
    days = np.arange((months[0] - EPOCH_DAY).days, (add_months(months[-1], 1) - EPOCH_DAY).days)
    month = days.astype("datetime64[D]").astype("datetime64[M]")
    season = np.array([MONTH_ACTIVITY[m] for m in range(1, 13)])[month.astype(np.int64) % 12]
    weekday = np.array(WEEKDAY_ACTIVITY)[(days + 3) % 7]  # 1970-01-01 was a Thursday
    growth = 1 + GROWTH_PER_YEAR * (days - (today - EPOCH_DAY).days) / 365
    index = (month - np.datetime64(months[0], "M")).astype(np.int64)
    return np.bincount(index, weights=season * weekday * growth, minlength=len(months))


def rounded(value: float, *, direction: str = "nearest") -> Decimal:
    """Two significant digits, as targets are written down (83,412 -> 83,000; 143 -> 140; 8.4 -> 8), at least 1."""
    if value <= 1:
        return Decimal(1)
    step = 10 ** max(0, math.floor(math.log10(value)) - 1)
    steps = value / step
    whole = math.ceil(steps) if direction == "up" else math.floor(steps) if direction == "down" else round(steps)
    return Decimal(max(1, whole * step))


def rounded_rate(value: float) -> Decimal:
    return Decimal(str(round(value, 2)))


class History:
    """Each month's value of some KPIs for the groups of one grouping, read through the engine in one batch.

    Months run from the first whole month of history to today's (month-to-date).
    """

    def __init__(self, metrics: list[Metric], months: list[dt.date], today: dt.date, by: str, groups: list[Any]) -> None:
        spans = [inclusive(m, min(add_months(m, 1) - dt.timedelta(days=1), today)) for m in months]
        values = evaluate_spans(metrics, spans, user=None, by=by, groups=groups)
        self._series = {
            (metric.key, group): np.array([float(values.value(metric, span, group) or 0) for span in spans])
            for metric in metrics
            for group in groups
        }

    def __call__(self, key: str, group: Any) -> np.ndarray:
        return self._series[(key, group)]


class Planner:
    """What a monthly series should reach in a month: its trailing run rate per unit of expected business."""

    def __init__(self, weights: np.ndarray, current: int) -> None:
        self.weights, self.current = weights, current

    def window(self, month: int) -> slice:
        """The whole months of history among the 12 before `month` (for a month ahead: the 12 before this one)."""
        end = min(month, self.current)
        return slice(max(0, end - TRAILING_MONTHS), end)

    def expected(self, series: np.ndarray) -> np.ndarray:
        """For every month (history and ahead)."""
        out = np.zeros(len(self.weights))
        for month in range(len(self.weights)):
            window = self.window(month)
            business = self.weights[window].sum()
            out[month] = series[window].sum() / business * self.weights[month] if business else 0.0
        return out

    def rate(self, won: np.ndarray, lost: np.ndarray, month: int) -> Decimal | None:
        window = self.window(month)
        closed = won[window].sum() + lost[window].sum()
        return rounded_rate(won[window].sum() / closed) if closed else None


def plan_targets(*, clock: Clock) -> TargetPlan:
    """Every target of the demo company, from the seeded records as the KPI engine reads them (rollups built)."""
    User = get_user_model()
    today = clock.today
    sellers = list(User.objects.filter(role__in=[Role.REP, Role.MANAGER], is_active=True).order_by("pk"))
    metrics = {m.key: m for m in Metric.objects.current().filter(key__in=[*SELLER_KPIS, WIN_RATE, "lost_deals"])}
    if not sellers or len(metrics) < len(SELLER_KPIS) + 2:
        return TargetPlan()
    director = User.objects.filter(role=Role.DIRECTOR, is_active=True).order_by("pk").first()
    teams = sorted({s.team_id for s in sellers if s.team_id is not None})

    this_month = floor(today, Every.MONTH)
    first_day = today - dt.timedelta(days=HISTORY_DAYS - 1)
    first_whole = first_day if first_day.day == 1 else add_months(floor(first_day, Every.MONTH), 1)
    history_months = month_starts(first_whole, this_month)
    current = len(history_months) - 1
    months = month_starts(first_whole, max(this_month, dt.date(today.year, 12, 1)))
    planner = Planner(month_weights(months, today), current)
    counted = [m for key, m in metrics.items() if key != WIN_RATE]
    people = History(counted, history_months, today, "person", [s.pk for s in sellers])
    by_team = History(counted, history_months, today, "team", teams)
    company = History(counted, history_months, today, "none", [None])

    # The plan: what each seller and the company should reach in every month; a team, what its sellers should.
    expected: dict[tuple[str, Scope], np.ndarray] = {}
    for key in SELLER_KPIS:
        for seller in sellers:
            expected[(key, Scope(user=seller.pk))] = planner.expected(people(key, seller.pk))
        for team in teams:
            members = [expected[(key, Scope(user=s.pk))] for s in sellers if s.team_id == team]
            expected[(key, Scope(team=team))] = np.sum(members, axis=0)
        expected[(key, Scope())] = planner.expected(company(key, None))

    now = dt.datetime.fromtimestamp(clock.as_of, dt.UTC)
    story = Story(people, company, expected, current, elapsed=inclusive(*period_bounds("month", today)).elapsed_share(now))
    chosen = story.choose(sellers)
    plan = TargetPlan()

    def add(scope: Scope, key: str, period: str, start: dt.date, value: Decimal | None) -> None:
        first, last = period_bounds(period, start)
        members = value is None
        target = Target(
            metric=metrics[key],
            user_id=scope.user,
            team_id=scope.team,
            period=period,
            start=first,
            end=last,
            value=value,
            team_target=TeamTarget.MEMBERS if members else TeamTarget.DIRECT,
            created_by=director,
            created_at=local_midnight(first),  # set as the period began
        )
        (plan.months if period == TargetPeriod.MONTH else plan.periods).append(target)

    periods = {TargetPeriod.QUARTER: floor(today, Every.QUARTER), TargetPeriod.YEAR: floor(today, Every.YEAR)}
    target_months = range(current - PAST_MONTHS, current + 1)
    for scope in [Scope(user=s.pk) for s in sellers] + [Scope(team=t) for t in teams] + [Scope()]:
        for key in SELLER_KPIS:
            by_members = scope.team is not None and key not in TEAM_SETS_DIRECTLY
            plan_values = expected[(key, scope)]
            for month in target_months:
                value = chosen.get((key, scope, month)) or rounded(plan_values[month])
                add(scope, key, TargetPeriod.MONTH, months[month], None if by_members else value)
            for period, start in periods.items():
                inside = [i for i, m in enumerate(months) if start <= m <= period_bounds(period, start)[1]]
                add(scope, key, period, start, None if by_members else rounded(float(plan_values[inside].sum())))
        if scope.user is None:
            source, group = (by_team, scope.team) if scope.team is not None else (company, None)
            won, lost = source("won_deals", group), source("lost_deals", group)
            for month in target_months:
                rate = planner.rate(won, lost, month)
                if rate is not None:
                    add(scope, WIN_RATE, TargetPeriod.MONTH, months[month], rate)
            rate = planner.rate(won, lost, current)
            if rate is not None:
                for period, start in periods.items():
                    add(scope, WIN_RATE, period, start, rate)
    return plan


class Story:
    """The few targets chosen against the actual run rate, so the demo tells its story on any day."""

    def __init__(
        self, people: History, company: History, expected: dict[tuple[str, Scope], np.ndarray], current: int, *, elapsed: float
    ) -> None:
        self.people, self.company, self.expected = people, company, expected
        self.current, self.elapsed = current, elapsed

    def planned(self, key: str, scope: Scope, month: int) -> Decimal:
        return rounded(self.expected[(key, scope)][month])

    def run_rate(self, series: np.ndarray, month: int) -> float:
        """Where the month ends at its pace so far (last month: where it ended)."""
        if month < self.current:
            return float(series[month])
        return float(series[month]) / self.elapsed if self.elapsed > 0 else 0.0

    def choose(self, sellers: list[Any]) -> dict[tuple[str, Scope, int], Decimal]:
        chosen: dict[tuple[str, Scope, int], Decimal] = {}
        month = self.current
        # This month's won revenue: the best rep against plan clearly ahead, the worst clearly off pace.
        reps = [s for s in sellers if s.role == Role.REP and s.username != DEMO_REP]
        if len(reps) >= 2:
            revenue = {r.pk: self.run_rate(self.people("won_revenue", r.pk), month) for r in reps}
            against_plan = {r.pk: revenue[r.pk] / float(self.planned("won_revenue", Scope(user=r.pk), month)) for r in reps}
            behind = min(reps, key=lambda r: (against_plan[r.pk], r.pk))
            scope = Scope(user=behind.pk)
            chosen[("won_revenue", scope, month)] = max(
                self.planned("won_revenue", scope, month), rounded(revenue[behind.pk] / OFF_PACE, direction="up")
            )
            ahead = max((r for r in reps if r is not behind), key=lambda r: (against_plan[r.pk], -r.pk))
            if revenue[ahead.pk] > 0:
                scope = Scope(user=ahead.pk)
                # In the month's first days the pace says little and won revenue's status reads the forecast,
                # mostly pipeline: the rep ahead has then already met a target set at what they won so far.
                early = self.elapsed < conf.pace_min_elapsed()
                aim = float(self.people("won_revenue", ahead.pk)[month]) if early else revenue[ahead.pk] / AHEAD_PACE
                chosen[("won_revenue", scope, month)] = min(
                    self.planned("won_revenue", scope, month), rounded(aim, direction="down")
                )
        # Short of target: the demo rep's meetings and the company's new leads, last month and (once the product
        # warns about this month) this month.
        short = [("new_leads", Scope(), self.company("new_leads", None))]
        demo_rep = next((s for s in sellers if s.username == DEMO_REP), None)
        if demo_rep is not None:
            short.append(("meetings_held", Scope(user=demo_rep.pk), self.people("meetings_held", demo_rep.pk)))
        months = [month - 1, month] if self.elapsed >= conf.pace_min_elapsed() else [month - 1]
        for key, scope, series in short:
            for when in months:
                stretch = rounded(self.run_rate(series, when) / SHORT_PACE, direction="up")
                chosen[(key, scope, when)] = max(self.planned(key, scope, when), stretch)
        return chosen


def month_starts(first: dt.date, last: dt.date) -> list[dt.date]:
    out = [first]
    while out[-1] < last:
        out.append(add_months(out[-1], 1))
    return out


@transaction.atomic
def create_targets(targets: Iterable[Target]) -> int:
    """Write planned targets in bulk (whole periods and one scope each, by construction)."""
    return len(Target.objects.bulk_create(list(targets), batch_size=2_000))
