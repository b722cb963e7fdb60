"""People for the early-warning tests: a north team with a manager and reps, a south team, a director."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from quota.accounts.models import Role, Team
from quota.testing.factories import UserFactory


@dataclass
class People:
    sales: Team
    north: Team
    south: Team
    director: object
    manager_north: object
    rep_north: object
    rep_north2: object
    rep_south: object


@pytest.fixture
def people(db) -> People:
    sales = Team.objects.create(name="Sales")
    north = Team.objects.create(name="North", parent=sales)
    south = Team.objects.create(name="South", parent=sales)  # no manager of its own: the sales manager is theirs
    return People(
        sales=sales,
        north=north,
        south=south,
        director=UserFactory(username="diana", first_name="Diana", last_name="Director", role=Role.DIRECTOR, team=sales),
        manager_north=UserFactory(username="nora", first_name="Nora", last_name="Manager", role=Role.MANAGER, team=north),
        rep_north=UserFactory(username="nils", first_name="Nils", last_name="Northrep", team=north),
        rep_north2=UserFactory(username="nina", first_name="Nina", last_name="Northrep", team=north),
        rep_south=UserFactory(username="sven", first_name="Sven", last_name="Southrep", team=south),
    )
