"""Who may do what: every named permission of Quota, decided here and nowhere else (django-rules).

Views, services, API permissions, the navigation and templates ask this module through Django's
own `user.has_perm(name[, obj])` (templates: `perms.webhooks.manage`, or `{% has_perm %}` from
`rules` for a permission about one object); services refuse with `require(by, name[, obj])`, whose
`PermissionDenied` carries the reason people read on the 403 page.

Which *rows* someone reads or changes is the queryset side, `core.visibility` (a method every list,
report and KPI uses); the record permissions below ask it about one record. Both follow the roles
table of the README, which `core.visibility` repeats.

This module sits on the ground floor: it names no domain app. An object permission reads only
plain attributes of the object it is given (`owner_id`, `recipients`, a team's `pk`).
An active superuser has every permission (Django's `User.has_perm`); here a superuser counts as an
administrator, so asking the rules directly gives the same answer.
"""

from __future__ import annotations

from typing import Any

import rules
from django.core.exceptions import PermissionDenied
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rules.permissions import ObjectPermissionBackend

from quota.accounts.models import Team
from quota.core.visibility import CHANGE_ALL_ROLES, READ_ALL_ROLES, VisibleQuerySet, can_change

# --------------------------------------------------------------------------- who the user is


def role_of(user: Any) -> str | None:
    """The user's role if they are signed in and active (a superuser is an administrator), else None."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return "admin" if user.is_superuser else user.role


@rules.predicate
def is_signed_in(user: Any) -> bool:
    return role_of(user) is not None


def has_role(*roles: str) -> rules.Predicate:
    wanted = frozenset(roles)
    return rules.predicate(lambda user: role_of(user) in wanted, name=f"has_role({', '.join(sorted(wanted))})")


reads_everything = has_role(*READ_ALL_ROLES)
changes_everything = has_role(*CHANGE_ALL_ROLES)
is_admin = has_role("admin")
is_manager = has_role("manager")
is_viewer = has_role("viewer")


# --------------------------------------------------------------------------- about one object


@rules.predicate
def owns(user: Any, obj: Any) -> bool:
    return obj is not None and getattr(obj, "owner_id", None) == user.pk


@rules.predicate
def receives(user: Any, obj: Any) -> bool:
    """A report (or anything with `recipients`) that is sent to the user."""
    recipients = getattr(obj, "recipients", None)
    return recipients is not None and recipients.filter(pk=user.pk).exists()


@rules.predicate
def may_read_record(user: Any, record: Any) -> bool:
    """The one-record form of `visible_to`: an owned record the user may read (configuration: everyone)."""
    if record is None:
        return False
    queryset = type(record)._default_manager.all()
    if not isinstance(queryset, VisibleQuerySet):
        return True
    return queryset.visible_to(user).filter(pk=record.pk).exists()


@rules.predicate
def may_change_record(user: Any, record: Any) -> bool:
    """The one-record form of `editable_by` (configuration: administrators and directors)."""
    return record is not None and can_change(user, record)


def managed_team_ids(user: Any) -> list[int] | None:
    """The teams `user` runs (their targets, their forecast calls): None for every team and the company (administrators
    and directors); a manager's team tree; else none."""
    if changes_everything(user):
        return None
    if is_manager(user) and user.team_id:
        return Team(pk=user.team_id).subtree_ids()
    return []


# The same rule under the names its callers read.
target_team_ids = forecast_call_team_ids = managed_team_ids


def _runs(user: Any, scope: Any) -> bool:
    """`scope` (a team, a person: their team, or None: the company) is within the teams `user` runs."""
    team_ids = managed_team_ids(user)
    if team_ids is None:
        return True
    team_id = scope.pk if isinstance(scope, Team) else getattr(scope, "team_id", None)
    return team_id is not None and team_id in team_ids


@rules.predicate
def sets_targets_of(user: Any, scope: Any) -> bool:
    """`scope`: a team, a person (their team's targets), or None for the company's (and so every team's)."""
    return _runs(user, scope)


@rules.predicate
def calls_forecast_for(user: Any, scope: Any) -> bool:
    """`scope`: a person, a team, or None for the company. Whoever calls may call for themself; a manager also for
    their team tree and its people; administrators and directors for anyone, any team and the company."""
    if not isinstance(scope, Team) and scope is not None and scope.pk == user.pk:
        return True
    return _runs(user, scope)


# --------------------------------------------------------------------------- dashboards

# Each role's dashboards; the first is its home (what "/" shows), the others are tabs.
BOARDS = ("sales", "my", "marketing", "service")
ROLE_BOARDS: dict[str, tuple[str, ...]] = {
    "admin": ("sales", "marketing", "service"),
    "director": ("sales", "marketing", "service"),
    "viewer": ("sales", "marketing", "service"),
    "manager": ("sales", "my", "marketing", "service"),
    "rep": ("my", "sales"),
    "marketing": ("marketing", "sales", "service"),
    "service": ("service", "sales", "marketing"),
}


def boards_of(user: Any) -> tuple[str, ...]:
    """The dashboards `user` may open, home first (nothing for someone not signed in)."""
    role = role_of(user)
    return () if role is None else ROLE_BOARDS.get(role, ("sales",))


def shows_board(board: str) -> rules.Predicate:
    return rules.predicate(lambda user: board in boards_of(user), name=f"shows_board({board})")


# --------------------------------------------------------------------------- the permissions

PERMISSIONS: dict[str, rules.Predicate] = {
    # records (the object is one record; row lists are core.visibility's)
    "records.view": is_signed_in & may_read_record,
    "records.create": is_signed_in & ~is_viewer,  # may create, and so change, records of their own at least
    "records.change": is_signed_in & may_change_record,
    "records.leave_unowned": changes_everything | is_manager,
    "records.export": is_signed_in,
    "configuration.change": changes_everything,  # pipelines, stages, sources, loss reasons, custom fields, products
    # KPIs, targets and dashboards
    "kpi.define": changes_everything,
    "targets.set": is_signed_in & sets_targets_of,  # the object: a team or a person, or None for the company's
    **{f"dashboards.view_{board}": shows_board(board) for board in BOARDS},
    "forecast.view": has_role("admin", "director", "manager"),  # the forecast page; a rep's is on their dashboard
    "forecast.call": has_role("admin", "director", "manager", "rep"),  # a forecast call (forecasting.calls)
    "forecast.call_for": has_role("admin", "director", "manager", "rep") & calls_forecast_for,  # a person, team or None
    # reports (the object: a report)
    "reports.define": has_role("admin", "director", "manager", "rep"),
    "reports.view_all": changes_everything,
    "reports.view": changes_everything | (is_signed_in & (owns | receives)),
    "reports.change": changes_everything | (is_signed_in & owns),
    "reports.send": changes_everything | (is_signed_in & owns),
    # integrations
    "imports.run": changes_everything,  # an import creates records owned by anyone
    "webhooks.manage": changes_everything,  # a subscription sends every record's changes outside
    "webforms.build": has_role("admin", "director", "marketing"),
    # people and oversight
    "audit.view": changes_everything,
    "users.unlock": is_admin,
}
for _name, _predicate in PERMISSIONS.items():
    rules.set_perm(_name, _predicate)

# What a refused person reads (the 403 page, the API's "detail", a form error).
REFUSALS: dict[str, Promise] = {
    "records.create": _("Your role may read records but not create or change them."),
    "records.change": _("You may not change this %(what)s: it belongs to another person or team."),
    "records.leave_unowned": _("Only a manager or director may leave a record without an owner."),
    "configuration.change": _("Only an administrator or director may change the configuration."),
    "kpi.define": _("Only administrators and directors define KPIs."),
    "targets.set": _("Only directors, administrators and the team's manager set its targets."),
    **{f"dashboards.view_{board}": _("This dashboard is not part of your role's views.") for board in BOARDS},
    "forecast.view": _("Only directors, managers and administrators see the forecast page."),
    "forecast.call": _("Only sales reps, managers, directors and administrators make forecast calls."),
    "forecast.call_for": _(
        "You may call the forecast for yourself; a manager also for their own team and its people, a director or "
        "administrator for anyone, any team and the company."
    ),
    "reports.define": _("Only directors, managers and reps define reports."),
    "reports.change": _("You may not change this report: it belongs to someone else."),
    "reports.send": _("You may not send this report: it belongs to someone else."),
    "imports.run": _("Only administrators and directors may import files."),
    "webhooks.manage": _("Only an administrator or director may manage webhooks."),
    "webforms.build": _("Only an administrator, director or marketing user may build web forms."),
    "audit.view": _("Only administrators and directors see the audit trail."),
    "users.unlock": _("Only an administrator may unlock a user."),
}


def refusal(permission: str, obj: Any = None) -> str:
    """Why someone without `permission` (on `obj`) is refused, in the active language."""
    message = str(REFUSALS.get(permission, _("You may not do this.")))
    if "%(what)s" in message:
        message %= {"what": getattr(getattr(obj, "_meta", None), "verbose_name", obj)}
    return message


def require(user: Any, permission: str, obj: Any = None) -> None:
    """Refuse (PermissionDenied with the reason) unless `user` has `permission`; `user` None is system work."""
    if user is not None and not user.has_perm(permission, obj):
        raise PermissionDenied(refusal(permission, obj))


class RulesBackend(ObjectPermissionBackend):
    """The authentication backend that answers Quota's permissions, and has the last word on them.

    A permission named here is decided by its rule alone: a refusal stops Django from asking the next
    backend (ModelBackend would look the name up in the database, a query for a name it cannot know).
    Other names (the admin site's `app.change_model`) go on to ModelBackend as usual.
    """

    def has_perm(self, user: Any, perm: str, *args: Any, **kwargs: Any) -> bool:
        if not rules.perm_exists(perm):
            return False
        if rules.has_perm(perm, user, *args, **kwargs):
            return True
        raise PermissionDenied(refusal(perm))

    def has_module_perms(self, user: Any, app_label: str) -> bool:
        return False  # the admin's app list stays ModelBackend's
