"""The named permissions of core.permissions against the roles table of the README and the issue.

The expectations are written out here, not read from the module, so a rule that drifts fails.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from quota.accounts.models import Role, Team
from quota.core.permissions import PERMISSIONS, REFUSALS, boards_of, refusal, require
from quota.testing.factories import CompanyFactory, UserFactory

ROLES = [role.value for role in Role]
# Permissions that depend on the role alone: the roles that have them.
BY_ROLE = {
    "records.create": {"admin", "director", "manager", "rep", "marketing", "service"},
    "records.leave_unowned": {"admin", "director", "manager"},
    "records.export": set(ROLES),
    "configuration.change": {"admin", "director"},
    "kpi.define": {"admin", "director"},
    "reports.define": {"admin", "director", "manager", "rep"},
    "reports.view_all": {"admin", "director"},
    "imports.run": {"admin", "director"},
    "webhooks.manage": {"admin", "director"},
    "webforms.build": {"admin", "director", "marketing"},
    "audit.view": {"admin", "director"},
    "users.unlock": {"admin"},
    "dashboards.view_sales": set(ROLES),
    "dashboards.view_my": {"manager", "rep"},
    "dashboards.view_marketing": {"admin", "director", "viewer", "manager", "marketing", "service"},
    "dashboards.view_service": {"admin", "director", "viewer", "manager", "marketing", "service"},
    "forecast.view": {"admin", "director", "manager"},
    "forecast.call": {"admin", "director", "manager", "rep"},
}
OBJECT_PERMISSIONS = {
    "records.view",
    "records.change",
    "targets.set",
    "reports.view",
    "reports.change",
    "reports.send",
    "forecast.call_for",
}


def test_every_permission_is_covered_here_and_has_a_reason():
    assert set(PERMISSIONS) == set(BY_ROLE) | OBJECT_PERMISSIONS
    assert all(refusal(name) for name in PERMISSIONS)
    assert set(REFUSALS) <= set(PERMISSIONS)


@pytest.mark.parametrize("permission", sorted(BY_ROLE))
def test_role_permissions_follow_the_roles_table(db, permission):
    team = Team.objects.create(name="North")
    for role in ROLES:
        user = UserFactory(role=role, team=team)
        assert user.has_perm(permission) is (role in BY_ROLE[permission]), (permission, role)


def test_nobody_signed_out_or_inactive_has_any_permission(db):
    inactive = UserFactory(role=Role.DIRECTOR, is_active=False)
    for name in PERMISSIONS:
        assert not AnonymousUser().has_perm(name)
        assert not inactive.has_perm(name)


def test_a_superuser_is_an_administrator_whatever_their_role(db):
    boss = UserFactory(role=Role.VIEWER, is_superuser=True)
    assert all(boss.has_perm(name) for name in BY_ROLE)
    assert boards_of(boss) == ("sales", "marketing", "service")


def test_a_refusal_asks_no_query_and_never_reaches_the_model_backend(db, django_assert_num_queries):
    rep = UserFactory(role=Role.REP)
    with django_assert_num_queries(0):
        assert not rep.has_perm("webhooks.manage")
        assert not rep.has_perm("kpi.define")


def test_an_unknown_name_is_refused(db):
    assert not UserFactory(role=Role.DIRECTOR).has_perm("webhooks.menage")


def test_the_home_board_comes_first(db):
    assert boards_of(UserFactory(role=Role.REP))[0] == "my"
    assert boards_of(UserFactory(role=Role.MARKETING))[0] == "marketing"
    assert boards_of(AnonymousUser()) == ()


def test_records_follow_core_visibility(people):
    rep, teammate, south_rep, director = people["rep"], people["teammate"], people["south_rep"], people["director"]
    manager = UserFactory(role=Role.MANAGER, team=rep.team)
    marketer = UserFactory(role=Role.MARKETING, team=None)
    viewer = UserFactory(role=Role.VIEWER, team=rep.team)
    mine, teammates, souths = CompanyFactory(owner=rep), CompanyFactory(owner=teammate), CompanyFactory(owner=south_rep)

    assert rep.has_perm("records.view", teammates) and not rep.has_perm("records.view", souths)
    assert rep.has_perm("records.change", mine) and not rep.has_perm("records.change", teammates)
    assert manager.has_perm("records.change", teammates) and not manager.has_perm("records.change", souths)
    assert marketer.has_perm("records.view", souths) and not marketer.has_perm("records.change", souths)
    assert viewer.has_perm("records.view", mine) and not viewer.has_perm("records.change", mine)
    assert director.has_perm("records.change", souths)


def test_targets_of_a_team_tree_are_its_managers(db):
    company = Team.objects.create(name="Company")
    north = Team.objects.create(name="North", parent=company)
    north_east = Team.objects.create(name="North-East", parent=north)
    south = Team.objects.create(name="South", parent=company)
    manager = UserFactory(role=Role.MANAGER, team=north)
    assert manager.has_perm("targets.set", north) and manager.has_perm("targets.set", north_east)
    assert not manager.has_perm("targets.set", south) and not manager.has_perm("targets.set", None)
    assert UserFactory(role=Role.DIRECTOR).has_perm("targets.set", None)
    assert not UserFactory(role=Role.REP, team=north).has_perm("targets.set", north)
    assert manager.has_perm("targets.set", UserFactory(team=north_east))
    assert not manager.has_perm("targets.set", UserFactory(team=south))


def test_forecast_calls_are_ones_own_a_managers_team_trees_and_a_directors_for_all(db):
    company = Team.objects.create(name="Company")
    north = Team.objects.create(name="North", parent=company)
    north_east = Team.objects.create(name="North-East", parent=north)
    south = Team.objects.create(name="South", parent=company)
    manager, rep = UserFactory(role=Role.MANAGER, team=north), UserFactory(role=Role.REP, team=north)
    assert rep.has_perm("forecast.call_for", rep)
    assert not any(rep.has_perm("forecast.call_for", scope) for scope in (manager, north, None))
    assert all(manager.has_perm("forecast.call_for", scope) for scope in (manager, rep, north, north_east))
    assert manager.has_perm("forecast.call_for", UserFactory(team=north_east))
    assert not any(manager.has_perm("forecast.call_for", scope) for scope in (south, UserFactory(team=south), None))
    director = UserFactory(role=Role.DIRECTOR)
    assert all(director.has_perm("forecast.call_for", scope) for scope in (rep, south, None))
    viewer = UserFactory(role=Role.VIEWER, team=north)
    assert not viewer.has_perm("forecast.call_for", viewer)


def test_reports_are_changed_by_their_owner_and_seen_by_their_recipients(people):
    from quota.reports.models import Report

    rep, teammate, director = people["rep"], people["teammate"], people["director"]
    report = Report.objects.create(
        name="Weekly", owner=rep, kpis=["won_revenue"], periods=["last_week"], formats=["pdf"], weekday=0
    )
    report.recipients.add(teammate)
    assert rep.has_perm("reports.change", report) and rep.has_perm("reports.send", report)
    assert teammate.has_perm("reports.view", report) and not teammate.has_perm("reports.change", report)
    assert not people["south_rep"].has_perm("reports.view", report)
    assert director.has_perm("reports.change", report)


def test_require_refuses_with_the_reason_and_lets_system_work_through(people):
    with pytest.raises(PermissionDenied, match="administrator or director may manage webhooks"):
        require(people["rep"], "webhooks.manage")
    require(None, "webhooks.manage")
    theirs = CompanyFactory(owner=people["south_rep"])
    with pytest.raises(PermissionDenied, match="You may not change this company"):
        require(people["rep"], "records.change", theirs)
