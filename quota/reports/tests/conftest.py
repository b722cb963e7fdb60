"""A small company for report tests: two sales teams with a manager and reps each, a director, and deals."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from quota.accounts.models import Role, Team
from quota.crm.services import deal_create
from quota.reports.tests.helpers import at, lost, won
from quota.testing.factories import UserFactory


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Rendered files go to a temporary folder, not var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@dataclass
class Company:
    north: Team
    south: Team
    director: object
    manager_north: object
    manager_south: object
    rep_north: object
    rep_north2: object
    rep_south: object


@pytest.fixture
def company(db) -> Company:
    sales = Team.objects.create(name="Sales")
    north = Team.objects.create(name="North", parent=sales)
    south = Team.objects.create(name="South", parent=sales)
    people = Company(
        north=north,
        south=south,
        director=UserFactory(username="diana", first_name="Diana", last_name="Director", role=Role.DIRECTOR, team=sales),
        manager_north=UserFactory(username="mnorth", first_name="Nora", last_name="Manager", role=Role.MANAGER, team=north),
        manager_south=UserFactory(username="msouth", first_name="Sam", last_name="Manager", role=Role.MANAGER, team=south),
        rep_north=UserFactory(username="rnorth", first_name="Nils", last_name="Northrep", team=north),
        rep_north2=UserFactory(username="rnorth2", first_name="Nina", last_name="Northrep", team=north),
        rep_south=UserFactory(username="rsouth", first_name="Sven", last_name="Southrep", team=south),
    )
    # Last week (Mon 3 - Sun 9 March 2025) and this month to date (1 - 12 March).
    won(people.rep_north, "North big win", "12000.50", "2025-01-10", "2025-03-04")
    won(people.rep_north2, "North small win", "800", "2025-02-01", "2025-03-07")
    won(people.rep_north, "North early March", "1500", "2025-02-01", "2025-03-01")
    lost(people.rep_north2, "North lost", "3000", "2025-02-01", "2025-03-05")
    won(people.rep_south, "South secret win", "99999", "2025-01-05", "2025-03-05")
    lost(people.rep_south, "South lost", "5000", "2025-02-01", "2025-03-10")
    deal_create(by=None, title="North open deal", owner=people.rep_north, amount=Decimal("7000"), created_at=at("2025-02-20"))
    deal_create(by=None, title="South open deal", owner=people.rep_south, amount=Decimal("45000"), created_at=at("2025-02-20"))
    return people
