"""The demo company's targets and the early warnings the product itself raised about them.

The warnings are not written by hand: `notifications.services.early_warnings_check` (what `quota
notify check` and the hourly task run) raises them, at two moments of the seeded history:

- the last hourly check of last month (23:00 on its last day), which warned about last month's
  targets that ended behind pace and about reps whose activity fell;
- today at noon, where the history ends: this month's, this quarter's and this year's targets.

The product reads a target with every record of its period, so a check in the past is only
faithful when no target it reads runs past that moment: last month's check therefore runs when
only the month targets exist (this month's start after it), and the quarter and year targets are
written after it. No warning is raised before a fifth of a period has gone (the product's rule),
so on the first days of January, say, last month's warnings are the ones people have unread.
Warnings are stamped with the moment of their check and are not e-mailed: the people are made up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Max

from quota.notifications.models import Notification
from quota.notifications.services import early_warnings_check
from quota.seed.clock import Clock
from quota.seed.targets import create_targets, plan_targets

LAST_CHECK_OF_THE_DAY = dt.time(23, 0)


@dataclass(frozen=True)
class Seeded:
    targets: int
    notifications: int


def seed_targets_and_warnings(*, clock: Clock) -> Seeded:
    """Plan the targets from the seeded records, write them, and run the early-warning checks in order."""
    plan = plan_targets(clock=clock)
    last_month_end = clock.today.replace(day=1) - dt.timedelta(days=1)
    last_check = dt.datetime.combine(last_month_end, LAST_CHECK_OF_THE_DAY, ZoneInfo(clock.zone_name))
    created = create_targets(plan.months)
    notified = _check(at=last_check)
    created += create_targets(plan.periods)
    notified += _check(at=dt.datetime.fromtimestamp(clock.as_of, dt.UTC))
    return Seeded(created, notified)


def _check(*, at: dt.datetime) -> int:
    """The product's check as it ran at `at`; its notifications carry that moment. Returns how many it sent."""
    before = Notification.objects.aggregate(last=Max("pk"))["last"] or 0
    sent = early_warnings_check(now=at, email=False)
    Notification.objects.filter(pk__gt=before).update(created_at=at)
    return sum(sent.values())
