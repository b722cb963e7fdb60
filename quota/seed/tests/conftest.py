import datetime as dt

import pytest

from quota.seed.runner import seed_company

TODAY = dt.date(2025, 3, 1)  # the 1st: the current month has only its first morning, and still must have wins
SMALL = "400"


@pytest.fixture
def seeded(db):
    """A small company seeded into the test database."""
    return seed_company(size=SMALL, seed=7, today=TODAY)
