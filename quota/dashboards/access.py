"""Which dashboards a user lands on and may open, and whose figures a dashboard's cards show.

Every figure is read through the KPI engine as the user, so `visible_to` already limits what a
dashboard can show; which boards a role opens is the `dashboards.view_<board>` permissions of
core.permissions (`boards_of` lists them in the role's order, home first).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_lazy as _

from quota.core.permissions import boards_of
from quota.core.visibility import visible_owner_ids


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
    """Whose figures the cards show: everything the user sees (`by="none"`) or one person's (`by="person"`).

    `target` says which targets count: the company's, a team's or a person's.
    """

    by: str
    group: int | None
    target: str  # "company", "team" or "person"
    target_id: int | None

    @property
    def target_filter(self) -> dict[str, Any]:
        if self.target == "person":
            return {"user_id": self.target_id}
        if self.target == "team":
            return {"team_id": self.target_id, "user__isnull": True}
        return {"user__isnull": True, "team__isnull": True}


def scope_for(user: Any, board: Board) -> Scope:
    """A seller's own board shows their figures; people who read only their team see its figures against its targets."""
    if board == Board.MY:
        return Scope(by="person", group=user.pk, target="person", target_id=user.pk)
    if visible_owner_ids(user) is not None and user.team_id:
        return Scope(by="none", group=None, target="team", target_id=user.team_id)
    return Scope(by="none", group=None, target="company", target_id=None)
