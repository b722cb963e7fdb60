"""A small company for the dashboard tests: two sales teams, a director and the other roles, and their records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from quota.accounts.models import Role, Team, User
from quota.crm.models import Deal, Stage
from quota.testing.clock import clock_at
from quota.testing.factories import DealFactory, UserFactory, default_pipeline, loss_reason

HTMX = {"HTTP_HX_REQUEST": "true"}


@dataclass
class World:
    north: Team
    south: Team
    director: User
    manager: User
    rep: User
    teammate: User
    south_rep: User
    marketer: User
    agent: User

    def sellers(self) -> list[User]:
        return [self.manager, self.rep, self.teammate, self.south_rep]


@pytest.fixture(autouse=True)
def pinned_clock():
    """These tests place records relative to now and read them by named period: pin the clock (see quota.testing.clock)."""
    with clock_at():
        yield


@pytest.fixture
def world(db) -> World:
    company = Team.objects.create(name="Company")
    north, south = Team.objects.create(name="North", parent=company), Team.objects.create(name="South", parent=company)
    return World(
        north=north,
        south=south,
        director=UserFactory(username="director", role=Role.DIRECTOR, team=company),
        manager=UserFactory(username="manager", role=Role.MANAGER, team=north),
        rep=UserFactory(username="rep", role=Role.REP, team=north),
        teammate=UserFactory(username="teammate", role=Role.REP, team=north),
        south_rep=UserFactory(username="south_rep", role=Role.REP, team=south),
        marketer=UserFactory(username="marketer", role=Role.MARKETING, team=None),
        agent=UserFactory(username="agent", role=Role.SERVICE, team=None),
    )


def now() -> dt.datetime:
    return timezone.now()


def month_start(moment: dt.datetime | None = None) -> dt.datetime:
    moment = moment or now()
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def this_month_moment() -> dt.datetime:
    """A moment in this month that has already passed (halfway from the 1st to now)."""
    start = month_start()
    return start + (now() - start) / 2


def last_month_moment() -> dt.datetime:
    return (month_start() - dt.timedelta(days=20)).replace(hour=12)


def won_deal(owner: User | None, amount: str, at: dt.datetime, *, rate: str = "1", source=None) -> Deal:
    return DealFactory(
        owner=owner,
        amount=Decimal(amount),
        exchange_rate=Decimal(rate),
        status="won",
        created_at=at - dt.timedelta(days=30),
        closed_at=at,
        source=source,
    )


def lost_deal(owner: User | None, at: dt.datetime, reason: str = "Price too high") -> Deal:
    created = at - dt.timedelta(days=30)
    return DealFactory(owner=owner, status="lost", loss_reason=loss_reason(reason), created_at=created, closed_at=at)


def open_deal(owner: User | None, amount: str, *, stage_position: int = 2, expected: dt.date | None = None) -> Deal:
    stage = Stage.objects.get(pipeline=default_pipeline(), position=stage_position)
    return DealFactory(owner=owner, amount=Decimal(amount), stage=stage, expected_close_date=expected)
