"""Which dashboards a user lands on and may open, and whose figures a dashboard's cards show.

Every figure is read through the KPI engine as the user, so `visible_to` already limits what a
dashboard can show; which boards a role opens is the `dashboards.view_<board>` permissions of
core.permissions (`boards_of` lists them in the role's order, home first).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from quota.accounts.models import Team
from quota.core.permissions import boards_of
from quota.core.visibility import visible_owner_ids

ME = "me"
COMPANY = "company"
TEAM_PREFIX = "team:"


class Board(StrEnum):
    SALES = "sales"  # the director's view; a manager's is restricted to their team by visibility
    MY = "my"  # a seller's own deals, targets, forecast and activity race
    MARKETING = "marketing"
    SERVICE = "service"

    @property
    def label(self) -> str:
        return str(BOARD_LABELS[self])


BOARD_LABELS = {
    Board.SALES: _("Sales"),
    Board.MY: _("My sales"),
    Board.MARKETING: _("Marketing"),
    Board.SERVICE: _("Service"),
}


def boards_for(user: Any) -> tuple[Board, ...]:
    """The boards `user` may open (`dashboards.view_<board>`), their home first."""
    return tuple(Board(name) for name in boards_of(user))


def home_board(user: Any) -> Board:
    return boards_for(user)[0]


@dataclass(frozen=True)
class Scope:
    """Whose figures a card or KPI page shows: everything the user sees (`by="none"`), one person's or one team's.

    `target` says which targets count: the company's, a team's or a person's. `key` names the scope in URLs
    (`?scope=me`, `team:<id>` or `company`), so a card's link opens its KPI page on the same figures.
    """

    by: str
    group: int | None
    target: str  # "company", "team" or "person"
    target_id: int | None
    key: str = COMPANY
    label: str = ""

    @property
    def target_filter(self) -> dict[str, Any]:
        if self.target == "person":
            return {"user_id": self.target_id}
        if self.target == "team":
            return {"team_id": self.target_id, "user__isnull": True}
        return {"user__isnull": True, "team__isnull": True}

    @property
    def records_filter(self) -> tuple[str, int] | None:
        """The record lists' filter (name, value) that keeps this scope's records; None for everything visible."""
        if self.by == "person":
            return ("owner", cast(int, self.group))
        if self.by == "team":
            return ("team", cast(int, self.group))
        return None


class ScopeRefused(PermissionDenied):
    """A `?scope=` the user may not see, or one that names nothing: refused, never shown as an empty figure."""


def scope_for(user: Any, board: Board) -> Scope:
    """A seller's own board shows their figures; people who read only their team see its figures against its targets."""
    return my_scope(user) if board == Board.MY else everything_scope(user)


def my_scope(user: Any) -> Scope:
    return Scope(by="person", group=user.pk, target="person", target_id=user.pk, key=ME, label=str(_("My own figures")))


def everything_scope(user: Any) -> Scope:
    """Everything the user reads: the company, or for people who read only their team (and its sub-teams), that."""
    if visible_owner_ids(user) is not None and user.team_id:
        label = _("Your team: all you can see")
        return Scope(by="none", group=None, target="team", target_id=user.team_id, key=COMPANY, label=str(label))
    return Scope(by="none", group=None, target="company", target_id=None, key=COMPANY, label=str(_("Company")))


def team_scope(team: Team) -> Scope:
    return Scope(
        by="team",
        group=team.pk,
        target="team",
        target_id=team.pk,
        key=f"{TEAM_PREFIX}{team.pk}",
        label=str(_("Team %(team)s") % {"team": team}),
    )


def visible_teams(user: Any) -> list[Team]:
    """The teams whose figures `user` may open on their own: every team for those who read everything, else their subtree."""
    if visible_owner_ids(user) is None:
        return list(Team.objects.order_by("name", "pk"))
    if not user.team_id:
        return []
    return list(Team.objects.filter(pk__in=Team(pk=user.team_id).subtree_ids()).order_by("name", "pk"))


def scopes_for(user: Any) -> list[Scope]:
    """The scopes `user` may switch among on a KPI page: their own, everything they read, and each team they read."""
    return [my_scope(user), everything_scope(user), *(team_scope(team) for team in visible_teams(user))]


def scope_from(user: Any, key: str | None, default: Scope) -> Scope:
    """The scope `?scope=` asks for; `default` without one. ScopeRefused for a team the user may not read or a bad key.

    `company` for someone who reads only their team is that team (what visibility lets through), and says so.
    """
    if not key:
        return default
    if key == ME:
        return my_scope(user)
    if key == COMPANY:
        return everything_scope(user)
    team_id = key.removeprefix(TEAM_PREFIX)
    if key.startswith(TEAM_PREFIX) and team_id.isdigit():
        team = next((team for team in visible_teams(user) if team.pk == int(team_id)), None)
        if team is not None:
            return team_scope(team)
        raise ScopeRefused(_("You cannot see the figures of this team."))
    raise ScopeRefused(_("Unknown scope “%(scope)s”: use me, company or team:<id>.") % {"scope": key})
