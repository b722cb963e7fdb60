"""Forecast calls: what people and the system say a month or a quarter will bring, and how right they were.

- A person commits their own number (`commit`); a manager calls for their team tree and its people, a director or
  administrator for anyone, any team and the company (`adjusted`). Who may is `forecast.call_for`
  (core.permissions).
- Each company day the system records, for the month and the quarter under way, the ranges' P50 (`model`) and the
  forecast card's won + weighted pipeline (`weighted`) for every person, team and the company
  (`forecast_calls_record`).
- Nothing is overwritten: the latest call of each method is what stands (`latest_calls`), the earlier ones draw how
  the calls moved over the period (`call_history`) and, once the period is over, say how far each method and each
  person was from what happened (`forecast_accuracy`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from quota.accounts.models import Team, User
from quota.core.calendar import company_zone
from quota.core.permissions import require
from quota.core.visibility import visible_owner_ids
from quota.forecasting.models import SYSTEM_METHODS, CallMethod, ForecastCall
from quota.forecasting.ranges import forecast_ranges
from quota.forecasting.selectors import WON_REVENUE, revenue_forecast
from quota.kpi.engine import Group, evaluate
from quota.kpi.layout import GroupKey
from quota.kpi.periods import Every, floor, shift

CALL_PERIODS = (Every.MONTH, Every.QUARTER)
CENT = Decimal("0.01")
ScopeKey = tuple[int | None, int | None]  # (user id, team id); (None, None) is the company

ACCURACY_METHOD = gettext_lazy(
    "For each call made during a period that is over, the error is what was said minus the revenue the period won "
    "(by close date). The mean absolute error is the average of its size as a share of the revenue won; the bias is "
    "the average of the signed share (above zero: calls were too high). A period that won nothing is left out: no "
    "share of nothing can be taken."
)


def company_day(now: dt.datetime) -> dt.date:
    return timezone.localtime(now, company_zone()).date()


def period_of(start: dt.date, end: dt.date) -> Every | None:
    """The calendar period start..end (inclusive) is, if it is a month or a quarter; else None."""
    for every in CALL_PERIODS:
        if floor(start, every) == start and shift(start, every, 1) - dt.timedelta(days=1) == end:
            return every
    return None


def periods_under_way(today: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The month and the quarter `today` is in."""
    return [(floor(today, every), shift(floor(today, every), every, 1) - dt.timedelta(days=1)) for every in CALL_PERIODS]


def ended_periods(every: Every, today: dt.date, count: int) -> list[tuple[dt.date, dt.date]]:
    """The last `count` whole periods of kind `every` that ended before `today`, latest first."""
    current = floor(today, every)
    return [(shift(current, every, -i), shift(current, every, 1 - i) - dt.timedelta(days=1)) for i in range(1, count + 1)]


# --------------------------------------------------------------------------- making a call


def parse_amount(value: Any) -> Decimal:
    """A call's amount as money: a number of at least zero, to the cent; a clear error otherwise."""
    try:
        amount = Decimal(str(value).strip().replace(" ", ""))
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite():
        raise ValidationError(_("The amount must be a number, such as 125000 or 125000.50."), code="invalid")
    if amount < 0:
        raise ValidationError(_("A forecast call cannot be negative."), code="negative")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def check_call_period(start: dt.date, end: dt.date, *, today: dt.date) -> None:
    if period_of(start, end) is None:
        raise ValidationError(_("A call is made for a whole month or a whole quarter."), code="period")
    if end < today:
        raise ValidationError(_("This period is over: its revenue is known, there is nothing left to call."), code="over")


def forecast_call_make(
    *,
    by: Any,
    start: dt.date,
    end: dt.date,
    amount: Any,
    user: User | None = None,
    team: Team | None = None,
    now: dt.datetime | None = None,
) -> ForecastCall:
    """Keep `by`'s call of what start..end will bring for `user`, `team` or (neither) the company.

    A call for oneself is a commit; for anyone else, a team or the company it is an adjusted call. Earlier calls are
    kept. PermissionDenied (with the reason) for a scope `by` may not call for; ValidationError for an amount that is
    not a number or is negative, and for a period that is not a month or a quarter, or is over.
    """
    if user is not None and team is not None:
        raise ValidationError(_("A call is for a person, a team or the company, not for a person and a team at once."))
    require(by, "forecast.call")
    require(by, "forecast.call_for", user if user is not None else team)
    now = now or timezone.now()
    value = parse_amount(amount)
    check_call_period(start, end, today=company_day(now))
    call = ForecastCall(
        user=user,
        team=team,
        start=start,
        end=end,
        amount=value,
        method=CallMethod.COMMIT if user is not None and user.pk == by.pk else CallMethod.ADJUSTED,
        made_by=by,
        made_at=now,
        day=company_day(now),
    )
    call.full_clean()
    call.save()
    return call


# --------------------------------------------------------------------------- the system's daily record


def forecast_calls_record(*, now: dt.datetime | None = None) -> int:
    """Record the model's P50 and the won + weighted forecast of the month and quarter under way, once per company day.

    For every person and team with deals expected or revenue won in the period, anyone with a call for it, and the
    company. A second run on the same day records nothing (a period recorded today is skipped; the unique
    constraints stop a run racing another). Returns the number of calls recorded.
    """
    now = now or timezone.now()
    today = company_day(now)
    recorded = 0
    for start, end in periods_under_way(today):
        done = ForecastCall.objects.filter(
            start=start, end=end, day=today, method=CallMethod.MODEL, user__isnull=True, team__isnull=True
        ).exists()
        if not done:
            recorded += _record_period(start, end, now=now, today=today)
    return recorded


def _record_period(start: dt.date, end: dt.date, *, now: dt.datetime, today: dt.date) -> int:
    called = set(
        ForecastCall.objects.filter(start=start, end=end)
        .exclude(method__in=SYSTEM_METHODS)
        .values_list("user_id", "team_id")
        .distinct()
    )
    rows: list[ForecastCall] = []
    for by in ("none", "person", "team"):
        weighted = revenue_forecast(user=None, start=start, end=end, by=by)
        forecasts = [weighted.overall] if by == "none" else weighted.rows
        won: dict[GroupKey, float] = {_id(f.group): f.won for f in forecasts}
        totals: dict[GroupKey, float | None] = {_id(f.group): f.total for f in forecasts}
        ranges = forecast_ranges(user=None, start=start, end=end, by=by, won=won)
        p50: dict[GroupKey, float] = {_id(r.group): r.p50 for r in ranges.rows}
        groups = set(totals) | set(p50)
        if by != "none":
            groups.discard(None)  # deals of nobody (or of no team) are no one's call
            index = 0 if by == "person" else 1
            groups |= {key[index] for key in called if key[index] is not None}
        for group in groups:
            user_id, team_id = (group, None) if by == "person" else (None, group) if by == "team" else (None, None)
            for method, value in ((CallMethod.MODEL, p50.get(group)), (CallMethod.WEIGHTED, totals.get(group))):
                rows.append(
                    ForecastCall(
                        user_id=user_id,
                        team_id=team_id,
                        start=start,
                        end=end,
                        amount=Decimal(str(round(max(value or 0.0, 0.0), 2))),
                        method=method,
                        made_at=now,
                        day=today,
                    )
                )
    with transaction.atomic():
        ForecastCall.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _id(group: Group | None) -> GroupKey:
    return group.id if group else None


# --------------------------------------------------------------------------- what stands


def _latest_of(calls: QuerySet[ForecastCall], *partition: str) -> QuerySet[ForecastCall]:
    """The latest call of each `partition` (made last, the later row on a tie): one query, a window function."""
    ranked = calls.annotate(
        rank=Window(RowNumber(), partition_by=[F(name) for name in partition], order_by=[F("made_at").desc(), F("pk").desc()])
    )
    return ranked.filter(rank=1)


@dataclass(frozen=True)
class LatestCalls:
    """The call of each method that stands for each scope asked about, and the team members' commits."""

    calls: dict[ScopeKey, dict[str, ForecastCall]] = field(default_factory=dict)
    member_commits: dict[int, list[ForecastCall]] = field(default_factory=dict)  # team id -> its people's commits

    def of_person(self, user_id: int | None) -> dict[str, ForecastCall]:
        return self.calls.get((user_id, None), {}) if user_id is not None else {}

    def of_team(self, team_id: int | None) -> dict[str, ForecastCall]:
        return self.calls.get((None, team_id), {}) if team_id is not None else {}

    def of_company(self) -> dict[str, ForecastCall]:
        return self.calls.get((None, None), {})

    def commits_of_members(self, team_id: int | None) -> tuple[Decimal, int]:
        """The sum of a team's people's commits, and how many of them committed."""
        commits = self.member_commits.get(team_id, []) if team_id is not None else []
        return sum((c.amount for c in commits), Decimal(0)), len(commits)


def latest_calls(
    *,
    start: dt.date,
    end: dt.date,
    people: Iterable[int] = (),
    teams: Iterable[int] = (),
    company: bool = False,
    member_teams: Iterable[int] = (),
) -> LatestCalls:
    """The latest call of each method for these people, teams (and the company), and the latest commit of each person
    in `member_teams` (a team's row shows its people's commits summed). One query."""
    people, teams, member_teams = list(people), list(teams), list(member_teams)
    wanted = Q(user_id__in=people) | Q(team_id__in=teams) | Q(user__team_id__in=member_teams, method=CallMethod.COMMIT)
    if company:
        wanted |= Q(user__isnull=True, team__isnull=True)
    if not (people or teams or member_teams or company):
        return LatestCalls()
    rows = _latest_of(ForecastCall.objects.filter(wanted, start=start, end=end), "user_id", "team_id", "method")
    calls: dict[ScopeKey, dict[str, ForecastCall]] = defaultdict(dict)
    members: dict[int, list[ForecastCall]] = defaultdict(list)
    member_set = set(member_teams)
    for call in rows.annotate(member_team=F("user__team_id")).select_related("made_by"):
        calls[(call.user_id, call.team_id)][call.method] = call
        team_id = call.member_team
        if call.method == CallMethod.COMMIT and team_id in member_set:
            members[team_id].append(call)
    return LatestCalls(dict(calls), dict(members))


# --------------------------------------------------------------------------- how the calls moved


@dataclass(frozen=True)
class CallHistory:
    """Each method's call standing at the end of each day of a period (None before its first call)."""

    days: list[dt.date]
    values: dict[str, list[float | None]]  # method -> one value per day, in CallMethod order, only methods with calls
    won: list[float]  # revenue won by the end of each day


def call_history(
    *, viewer: Any, start: dt.date, end: dt.date, today: dt.date, user_id: int | None = None, team_id: int | None = None
) -> CallHistory:
    """How the calls for one scope (a person, a team, or neither: the company) moved from the period's first day to
    today (or its last), beside the revenue won so far as `viewer` sees it. Two queries and one KPI evaluation."""
    last = min(end, today)
    days = [start + dt.timedelta(days=i) for i in range((last - start).days + 1)] if last >= start else []
    scope = Q(user_id=user_id, team__isnull=True) if user_id else Q(team_id=team_id, user__isnull=True)
    if not user_id and not team_id:
        scope = Q(user__isnull=True, team__isnull=True)
    daily = _latest_of(ForecastCall.objects.filter(scope, start=start, end=end, day__lte=last), "method", "day")
    said: dict[str, list[tuple[dt.date, float]]] = defaultdict(list)
    for method, day, amount in daily.order_by("day").values_list("method", "day", "amount"):
        said[method].append((day, float(amount)))
    values: dict[str, list[float | None]] = {}
    for method in CallMethod.values:
        if method not in said:
            continue
        standing: float | None = None
        calls, line = iter(said[method]), []
        upcoming = next(calls, None)
        for day in days:
            while upcoming is not None and upcoming[0] <= day:
                standing = upcoming[1]
                upcoming = next(calls, None)
            line.append(standing)
        values[method] = line
    return CallHistory(days, values, _won_by_day(viewer, start, last, user_id, team_id) if days else [])


def _won_by_day(viewer: Any, start: dt.date, last: dt.date, user_id: int | None, team_id: int | None) -> list[float]:
    by, group = ("person", user_id) if user_id else ("team", team_id) if team_id else ("none", None)
    result = evaluate([WON_REVENUE], user=viewer, start=start, end=last, every=Every.DAY, by=by, compare=False)[WON_REVENUE]
    daily = {p.period: float(p.value or 0) for p in result.points if (p.group.id if p.group else None) == group}
    total, out = 0.0, []
    for i in range((last - start).days + 1):
        total += daily.get(start + dt.timedelta(days=i), 0.0)
        out.append(total)
    return out


# --------------------------------------------------------------------------- how right they were


@dataclass(frozen=True)
class MethodAccuracy:
    calls: int  # calls measured (made during a period that won something)
    mape: float  # mean absolute error, as a share of the revenue won
    bias: float  # mean signed error, as a share (above zero: too high)


@dataclass(frozen=True)
class AccuracyRow:
    group: Group | None  # None: the company
    methods: dict[str, MethodAccuracy]

    @property
    def label(self) -> str:
        return self.group.label if self.group else str(_("Company"))

    @property
    def cells(self) -> list[MethodAccuracy | None]:
        """Each method's accuracy in CallMethod order (None: no call of it measured)."""
        return [self.methods.get(method) for method in CallMethod.values]


@dataclass(frozen=True)
class Accuracy:
    periods: list[tuple[dt.date, dt.date]]
    rows: list[AccuracyRow]


def forecast_accuracy(*, user: Any, periods: Sequence[tuple[dt.date, dt.date]], by: str) -> Accuracy:
    """How far each method's calls, made during each of these (ended, same-kind) periods, were from the revenue won,
    for each person or team (`by`) `user` sees, and the company for those who see everything.

    One query for the calls, one KPI evaluation per grouping for what the periods won (grouped by period and group),
    whatever the number of calls, people or periods.
    """
    if by not in ("person", "team"):
        raise ValueError("by must be person or team")
    if not periods:
        return Accuracy([], [])
    kinds = {period_of(s, e) for s, e in periods}
    if len(kinds) != 1 or None in kinds:
        raise ValueError("accuracy is measured over whole periods of one kind (months or quarters)")
    every = kinds.pop()
    assert every is not None
    owners = visible_owner_ids(user) if user is not None else None
    in_periods = Q()
    for start, end in periods:
        in_periods |= Q(start=start, end=end)
    scopes = Q(user__isnull=False) if by == "person" else Q(team__isnull=False)
    if by == "person" and owners is not None:
        scopes &= Q(user_id__in=owners)
    if by == "team" and owners is not None:
        scopes &= Q(team_id__in=Team(pk=user.team_id).subtree_ids() if user.team_id else [])
    company = owners is None
    if company:
        scopes |= Q(user__isnull=True, team__isnull=True)
    calls = ForecastCall.objects.filter(in_periods, scopes, day__gte=F("start"), day__lte=F("end")).values_list(
        "user_id", "team_id", "method", "start", "amount"
    )
    lo, hi = min(s for s, _e in periods), max(e for _s, e in periods)
    groupings = [by, "none"] if company else [by]
    won: dict[tuple[str, GroupKey, dt.date | None], float] = {}
    labels: dict[GroupKey, Group] = {}
    for grouping in groupings:
        result = evaluate([WON_REVENUE], user=user, start=lo, end=hi, every=every, by=grouping, compare=False)[WON_REVENUE]
        for point in result.points:
            won[(grouping, _id(point.group), point.period)] = float(point.value or 0)
            if point.group and grouping != "none":
                labels[point.group.id] = point.group
    errors: dict[tuple[GroupKey, str], list[float]] = defaultdict(list)  # (group, method) -> signed shares
    for person_id, team_id, method, period_start, amount in calls:
        group: GroupKey = person_id if by == "person" else team_id  # None: a company call
        actual = won.get((by if group is not None else "none", group, period_start), 0.0)
        if actual > 0:
            errors[(group, method)].append((float(amount) - actual) / actual)
    by_group: dict[GroupKey, dict[str, MethodAccuracy]] = defaultdict(dict)
    for (group, method), shares in errors.items():
        by_group[group][method] = MethodAccuracy(
            len(shares), sum(abs(s) for s in shares) / len(shares), sum(shares) / len(shares)
        )
    missing = [g for g in by_group if g is not None and g not in labels]
    labels.update(_labels(by, missing))
    rows = [AccuracyRow(labels.get(g) if g is not None else None, methods) for g, methods in by_group.items()]
    rows.sort(key=lambda row: (row.group is None, row.label.casefold()))
    return Accuracy(list(periods), rows)


def _labels(by: str, ids: list[int]) -> dict[GroupKey, Group]:
    """Names of people or teams the engine gave no row (nothing won in the periods): one query, none without any."""
    if not ids:
        return {}
    if by == "team":
        return {pk: Group(pk, name) for pk, name in Team.objects.filter(pk__in=ids).values_list("pk", "name")}
    people = User.objects.filter(pk__in=ids).values_list("pk", "first_name", "last_name", "username")
    return {pk: Group(pk, User.label_of(first, last, username)) for pk, first, last, username in people}
