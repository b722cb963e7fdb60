"""Read paths for activities: a person's tasks for today.

A task is open until it is done (`completed_at`); it is due at `occurred_at`. An open task whose due
moment has passed is **overdue**: one condition, used by "My tasks today" and the notifications.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.utils import timezone

from quota.activities.models import Activity, ActivityKind
from quota.core.calendar import local_midnight

TASKS_SHOWN = 10  # of each list: today's and the overdue ones from earlier days

OPEN_TASK = Q(kind=ActivityKind.TASK, completed_at__isnull=True)


def overdue_task_condition(*, now: dt.datetime) -> Q:
    return OPEN_TASK & Q(occurred_at__lt=now)


def day_bounds(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The company's day around `now`, as [start, end)."""
    today = timezone.localdate(now)
    return local_midnight(today), local_midnight(today + dt.timedelta(days=1))


def open_tasks(*, owner: Any = None) -> QuerySet[Activity]:
    tasks = Activity.objects.filter(OPEN_TASK)
    return tasks if owner is None else tasks.filter(owner=owner)


def tasks_due_today(*, now: dt.datetime) -> QuerySet[Activity]:
    """Everyone's open tasks due on the company's day of `now` (earlier today included)."""
    start, end = day_bounds(now)
    return open_tasks().filter(occurred_at__gte=start, occurred_at__lt=end)


@dataclass(frozen=True)
class TasksToday:
    today: Sequence[Activity]  # due today, soonest first; each with `is_overdue` (its time has passed)
    earlier: Sequence[Activity]  # overdue from earlier days, the latest first
    earlier_count: int  # all of them (the list shows TASKS_SHOWN)
    today_start: dt.datetime  # where "earlier days" end

    @property
    def more_earlier(self) -> int:
        return self.earlier_count - len(self.earlier)


def my_tasks_today(*, user: Any, now: dt.datetime | None = None) -> TasksToday:
    """The user's own open tasks due today, and the overdue ones from before (three queries)."""
    now = now or timezone.now()
    start, end = day_bounds(now)
    mine = open_tasks(owner=user).select_related("deal", "company", "contact")
    flagged = mine.annotate(is_overdue=ExpressionWrapper(overdue_task_condition(now=now), output_field=BooleanField()))
    today = list(flagged.filter(occurred_at__gte=start, occurred_at__lt=end).order_by("occurred_at", "pk")[:TASKS_SHOWN])
    before = flagged.filter(occurred_at__lt=start)
    earlier = list(before.order_by("-occurred_at", "-pk")[:TASKS_SHOWN])
    earlier_count = len(earlier) if len(earlier) < TASKS_SHOWN else before.count()
    return TasksToday(today, earlier, earlier_count, start)
