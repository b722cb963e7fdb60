"""Who sees what: the one place where record visibility is decided (the queryset side).

Every owned record's manager is a `VisibleQuerySet`; pages, API, reports and KPIs
ask `Model.objects.visible_to(user)` (read) or `.editable_by(user)` (change). Everything else
someone may do (open a page, define a KPI, manage webhooks) is a named permission in
`core.permissions`, whose record permissions ask this module about one record.

| role              | reads                              | changes                     |
| ----------------- | ---------------------------------- | --------------------------- |
| admin, director   | everything                         | everything                  |
| manager           | their team and its sub-teams       | the same                    |
| rep               | their team and its sub-teams       | their own records           |
| marketing,service | everything                         | their own records           |
| viewer            | their team (everything if none)    | nothing                     |

Records with no owner (an unassigned lead, say) are a shared queue: readable by
everyone who reads, changeable by those who may change others' records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from quota.accounts.models import User

READ_ALL_ROLES = {"admin", "director", "marketing", "service"}
CHANGE_ALL_ROLES = {"admin", "director"}


def visible_owner_ids(user: User) -> list[int] | None:
    """The ids of the users whose records `user` may read; None means everyone's."""
    if user.is_superuser or user.role in READ_ALL_ROLES:
        return None
    if user.role == "viewer" and user.team_id is None:
        return None
    return user.team_member_ids()


def changeable_owner_ids(user: User) -> list[int] | None:
    """The ids of the users whose records `user` may change; None means everyone's."""
    if user.is_superuser or user.role in CHANGE_ALL_ROLES:
        return None
    if user.role == "manager":
        return user.team_member_ids()
    if user.role == "viewer":
        return []
    return [user.pk]


class VisibleQuerySet(models.QuerySet):
    """A queryset that can restrict itself to what a user may read or change.

    A model says how a row reaches its owner with `owner_path` (a lookup such as
    "owner" or "offer__owner"); the default is "owner".
    """

    def _owner_path(self) -> str:
        return getattr(self.model, "owner_path", "owner")

    def _restrict(self, owner_ids: list[int] | None, *, include_unowned: bool) -> VisibleQuerySet:
        if owner_ids is None:
            return self
        path = self._owner_path()
        condition = Q(**{f"{path}__in": owner_ids})
        if include_unowned:
            condition |= Q(**{f"{path}__isnull": True})
        return self.filter(condition)

    def visible_to(self, user: Any) -> VisibleQuerySet:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        return self._restrict(visible_owner_ids(user), include_unowned=True)

    def editable_by(self, user: Any) -> VisibleQuerySet:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        owner_ids = changeable_owner_ids(user)
        return self._restrict(owner_ids, include_unowned=owner_ids is None or user.role == "manager")


def may_change_owned_by(user: Any, owner_id: int | None, owner_ids: list[int] | None) -> bool:
    """`editable_by` for one record whose owner is known, without a query (rows of a page already read).

    `owner_ids` is `changeable_owner_ids(user)`, computed once for all the rows.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if owner_ids is None:
        return True
    return owner_id in owner_ids if owner_id is not None else user.role == "manager"


def can_change(user: Any, record: models.Model) -> bool:
    """Whether `user` may change this one record (same rule as `editable_by`).

    Records nobody owns (pipelines, sources, products: the configuration) are changed by those
    with the `configuration.change` permission (core.permissions).
    """
    queryset = type(record)._default_manager.all()
    if not isinstance(queryset, VisibleQuerySet):
        return bool(user.has_perm("configuration.change"))
    return queryset.editable_by(user).filter(pk=record.pk).exists()
