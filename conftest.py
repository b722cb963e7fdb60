import pytest

from quota.testing.hypothesis import load_profile

# Hypothesis: the same examples on every CI run, new ones locally (see quota/testing/hypothesis.py).
load_profile()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (team membership is cached)."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def people(db):
    """Two sales teams: north (a rep and a teammate) and south (one rep), and a director over both.

    The usual cast of the visibility tests; a module that needs others defines its own `people`.
    """
    from quota.accounts.models import Role, Team
    from quota.testing.factories import UserFactory

    north, south = Team.objects.create(name="North"), Team.objects.create(name="South")
    return {
        "rep": UserFactory(team=north),
        "teammate": UserFactory(team=north),
        "south_rep": UserFactory(team=south),
        "director": UserFactory(team=None, role=Role.DIRECTOR),
    }
