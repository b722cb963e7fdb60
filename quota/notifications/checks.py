"""Who is falling behind (reads only; services.early_warnings_check tells them).

- A target is behind when its pace, the share of the target reached divided by the share of the
  period gone, is below the threshold (0.8 by default), for higher-is-better KPIs that add up over
  the period (the only ones with a pace). Targets are read as the system sees the records: a
  person's target counts all of that person's records.
- A rep is stalling when they won no deal and logged fewer activities (calls, e-mails, meetings;
  tasks are to-dos, not work done) in the last N weeks than in the N weeks before.
- Work due: each open task due today (activities.selectors), told to its owner; a task on a lost deal
  is that deal's follow-up.
- Stale deals: each owner's open deals with no move or activity for N days (crm.selectors), counted.
- From the forecast (forecasting.ranges): a won revenue target of a period under way whose chance of being
  reached is below a threshold (0.3 by default), and a person whose open pipeline expected in the period is
  less than a chosen multiple (1.5 by default) of what is left of their target.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone

from quota.accounts.models import Role, Team
from quota.activities.models import Activity, ActivityKind
from quota.activities.selectors import tasks_due_today
from quota.crm.choices import DealStatus
from quota.crm.models import Deal
from quota.crm.selectors import stale_deals
from quota.forecasting.ranges import RangeRow
from quota.forecasting.selectors import WON_REVENUE
from quota.forecasting.targets import TargetProgress, target_progress
from quota.kpi.definitions import Better
from quota.kpi.models import Target
from quota.kpi.periods import company_zone
from quota.notifications import conf


@dataclass(frozen=True)
class TargetBehind:
    item: TargetProgress
    people: list[Any]  # who to tell: the person and their managers, or the team's managers

    @property
    def target(self) -> Target:
        return self.item.target


@dataclass(frozen=True)
class StallingRep:
    rep: Any
    recent: int  # activities in the last N weeks
    earlier: int  # in the N weeks before
    weeks: int
    managers: list[Any]


class Managers:
    """The managers of each team, climbing to the parent team when a team has none (two queries in all)."""

    def __init__(self) -> None:
        self.parents = dict(Team.objects.values_list("id", "parent_id"))
        self.by_team: dict[int, list[Any]] = {}
        for manager in get_user_model().objects.filter(role=Role.MANAGER, is_active=True).order_by("pk"):
            self.by_team.setdefault(manager.team_id, []).append(manager)

    def of(self, team_id: int | None) -> list[Any]:
        seen = set()
        while team_id is not None and team_id not in seen:
            seen.add(team_id)
            if self.by_team.get(team_id):
                return self.by_team[team_id]
            team_id = self.parents.get(team_id)
        return []


def targets_behind(*, now: dt.datetime | None = None) -> list[TargetBehind]:
    now = now or timezone.now()
    today = timezone.localtime(now, company_zone()).date()
    targets = Target.objects.filter(start__lte=today, end__gte=today).select_related("metric", "user", "team")
    threshold, min_elapsed = conf.pace_threshold(), conf.pace_min_elapsed()
    managers = Managers()
    behind = []
    for item in target_progress(targets, user=None, now=now):
        state = item.progress
        if state is None or state.pace is None or item.target.metric.better != Better.HIGHER:
            continue
        if state.elapsed >= min_elapsed and state.pace < threshold:
            behind.append(TargetBehind(item, list(_people_for(item.target, managers))))
    return behind


@dataclass(frozen=True)
class ForecastWarning:
    target: Target
    row: RangeRow  # the target's forecast: its chance of being reached and its pipeline coverage
    unlikely: bool  # the chance is below the threshold
    thin: bool  # a person's pipeline covers too little of what is left
    people: list[Any]


def forecast_warnings(*, now: dt.datetime | None = None) -> list[ForecastWarning]:
    """The won revenue targets under way that the forecast says are in danger: what their rows show (target_progress)."""
    now = now or timezone.now()
    today = timezone.localtime(now, company_zone()).date()
    targets = Target.objects.filter(start__lte=today, end__gte=today, metric__key=WON_REVENUE).select_related(
        "metric", "user", "team"
    )
    threshold, ratio = conf.reach_threshold(), conf.coverage_ratio()
    managers = Managers()
    warnings = []
    for item in target_progress(targets, user=None, now=now):
        row = item.outlook
        if row is None or row.reach is None:
            continue
        unlikely = row.reach < threshold
        thin = item.target.scope == "person" and row.coverage is not None and row.coverage < ratio
        if unlikely or thin:
            warnings.append(ForecastWarning(item.target, row, unlikely, thin, list(_people_for(item.target, managers))))
    return warnings


def _people_for(target: Target, managers: Managers) -> Iterator[Any]:
    seen = set()
    if target.user is not None:
        candidates = [target.user, *managers.of(target.user.team_id)]
    elif target.team_id:
        candidates = managers.of(target.team_id)
    else:
        candidates = list(get_user_model().objects.filter(role=Role.DIRECTOR, is_active=True))
    for person in candidates:
        if person.is_active and person.pk not in seen:
            seen.add(person.pk)
            yield person


def stalling_reps(*, now: dt.datetime | None = None, weeks: int | None = None) -> list[StallingRep]:
    """Reps with no won deal and fewer activities in the last `weeks` than in the `weeks` before: one grouped query."""
    now = now or timezone.now()
    weeks = weeks or conf.stall_weeks()
    recent_from = now - dt.timedelta(weeks=weeks)
    earlier_from = now - dt.timedelta(weeks=2 * weeks)
    won_recently = Deal.objects.filter(
        owner=OuterRef("owner"), status=DealStatus.WON, closed_at__gte=recent_from, closed_at__lt=now
    )
    rows = (
        Activity.objects.filter(owner__role=Role.REP, owner__is_active=True, occurred_at__gte=earlier_from, occurred_at__lt=now)
        .exclude(kind=ActivityKind.TASK)
        .filter(~Exists(won_recently))
        .values("owner")
        .annotate(
            recent=Count("pk", filter=Q(occurred_at__gte=recent_from)), earlier=Count("pk", filter=Q(occurred_at__lt=recent_from))
        )
        .filter(recent__lt=F("earlier"))
        .order_by("owner")
    )
    counts = {row["owner"]: (row["recent"], row["earlier"]) for row in rows}
    if not counts:
        return []
    managers = Managers()
    reps = get_user_model().objects.filter(pk__in=counts).order_by("pk")
    return [StallingRep(rep, *counts[rep.pk], weeks, managers.of(rep.team_id)) for rep in reps]


def tasks_due(*, now: dt.datetime | None = None) -> list[Activity]:
    """Open tasks due on the company's day of `now` whose owner is an active person, with their deal (one query)."""
    now = now or timezone.now()
    tasks = tasks_due_today(now=now).filter(owner__is_active=True).select_related("owner", "deal", "deal__loss_reason")
    return list(tasks.order_by("occurred_at", "pk"))


@dataclass(frozen=True)
class StaleDeals:
    owner: Any
    count: int


def stale_deals_by_owner(*, now: dt.datetime | None = None) -> list[StaleDeals]:
    """How many stale open deals each active person owns: one grouped query, then the people."""
    counts = dict(
        stale_deals(Deal.objects.filter(owner__is_active=True), now=now)
        .order_by()
        .values("owner")
        .annotate(count=Count("pk"))
        .values_list("owner", "count")
    )
    owners = get_user_model().objects.filter(pk__in=counts).order_by("pk")
    return [StaleDeals(owner, counts[owner.pk]) for owner in owners]
