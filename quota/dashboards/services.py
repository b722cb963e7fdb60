"""Writes from the dashboards: a user's extra KPI cards, and the targets set in the targets grid.

`targets_save` belongs with the KPI app's services (it only writes `kpi.Target`); it lives here
until the KPI app has its own, with the same signature.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils.translation import gettext as _

from quota.accounts.models import Team, User
from quota.core.actor import acts_as_by
from quota.core.permissions import refusal, target_team_ids
from quota.dashboards.access import Board
from quota.dashboards.models import DashboardCard
from quota.kpi.definitions import Unit
from quota.kpi.models import Metric, Target, TargetPeriod, TeamTarget, period_bounds

MAX_CARDS = 12


def card_add(*, user: Any, key: str, board: str) -> DashboardCard:
    """Add a KPI to one of the user's dashboards (at the end; adding it twice changes nothing)."""
    if board not in {b.value for b in Board} or not user.has_perm(f"dashboards.view_{board}"):
        raise PermissionDenied(_("You cannot open this dashboard."))
    if not Metric.objects.current().filter(key=key).exists():
        raise ValidationError({"key": _("There is no KPI '%(key)s'.") % {"key": key}})
    with transaction.atomic():
        cards = DashboardCard.objects.filter(user=user, board=board)
        existing = cards.filter(metric_key=key).first()
        if existing is not None:
            return existing
        if cards.count() >= MAX_CARDS:
            raise ValidationError(
                _("A dashboard holds at most %(count)s cards of your own; remove one first.") % {"count": MAX_CARDS}
            )
        position = (cards.aggregate(last=Max("position"))["last"] or 0) + 1
        card = DashboardCard(user=user, board=Board(board).value, metric_key=key, position=position)
        card.full_clean()
        card.save()
        return card


def card_remove(*, user: Any, card_id: int) -> None:
    """Remove one of the user's own cards (someone else's card is not found, so nothing happens)."""
    DashboardCard.objects.filter(user=user, pk=card_id).delete()


# --------------------------------------------------------------------------- targets


def teams_managed_by(user: Any) -> QuerySet[Team]:
    """Teams whose targets `user` sets (`targets.set`): every team for directors and administrators, a manager's tree."""
    team_ids = target_team_ids(user)
    return Team.objects.all() if team_ids is None else Team.objects.filter(pk__in=team_ids)


def may_set_targets(user: Any, team: Team | None) -> bool:
    """Whether `user` sets the targets of `team` and its members (None: the company's and its teams')."""
    return bool(user.has_perm("targets.set", team))


def allows_negative(unit: Unit) -> bool:
    """Only scores go below zero (NPS runs from -100 to 100); no count, amount, rate or time does."""
    return unit == Unit.SCORE


@dataclass(frozen=True)
class TargetCell:
    """One target to set: for a person, a team, or (neither) the whole company; value None clears it."""

    metric: Metric
    value: Decimal | None
    team_id: int | None = None
    person_id: int | None = None

    @property
    def key(self) -> tuple[int, int | None, int | None]:
        return (self.metric.pk, self.team_id, self.person_id)


@acts_as_by
@transaction.atomic
def targets_save(*, by: Any, period: str, start: dt.date, end: dt.date, cells: list[TargetCell]) -> int:
    """Set (or clear) targets for one month, quarter or year; returns how many changed.

    Every cell is checked (permission, sign) before anything is written: one refused cell saves nothing.
    Directors and administrators set any target; a manager those of their team tree and its members.
    """
    if period not in {TargetPeriod.MONTH, TargetPeriod.QUARTER, TargetPeriod.YEAR} or (start, end) != period_bounds(
        period, start
    ):
        raise ValidationError({"period": _("Targets are set here for a whole month, quarter or year.")})
    managed = set(teams_managed_by(by).values_list("pk", flat=True))
    people_teams = dict(User.objects.filter(pk__in={c.person_id for c in cells if c.person_id}).values_list("pk", "team_id"))
    for cell in cells:
        if cell.person_id is not None:
            allowed = people_teams.get(cell.person_id) in managed
        elif cell.team_id is not None:
            allowed = cell.team_id in managed
        else:
            allowed = may_set_targets(by, None)
        if not allowed:
            raise PermissionDenied(refusal("targets.set"))
        if cell.value is not None and cell.value < 0 and not allows_negative(cell.metric.unit):
            raise ValidationError(_("A target cannot be negative."))

    scopes = Q(user__isnull=True, team__isnull=True)
    scopes |= Q(user__isnull=True, team__in={c.team_id for c in cells if c.team_id})
    scopes |= Q(user__in={c.person_id for c in cells if c.person_id})
    rows = Target.objects.select_for_update().filter(scopes, metric__in={c.metric for c in cells}, start=start, end=end)
    existing = {(t.metric_id, t.team_id, t.user_id): t for t in rows}
    changed = 0
    for cell in cells:
        target = existing.get(cell.key)
        if cell.value is None:
            if target is not None:
                target.delete()
                changed += 1
            continue
        if target is None:
            target = Target(
                metric=cell.metric,
                user_id=cell.person_id,
                team_id=cell.team_id,
                period=period,
                start=start,
                end=end,
                created_by=by,
            )
        elif target.value == cell.value and target.team_target == TeamTarget.DIRECT:
            continue
        target.value, target.team_target = cell.value, TeamTarget.DIRECT
        target.full_clean(validate_unique=False)  # the unique constraints are the database's, in this transaction
        target.save()
        changed += 1
    return changed
