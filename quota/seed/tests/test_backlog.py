"""The service desk's queue at the end of history: the last fortnight's cases held open, some past their SLA."""

import datetime as dt

import numpy as np

from quota.seed.backlog import BACKLOG_DAYS, hold_recent_cases
from quota.seed.clock import Clock

DAY = 86_400


def cases(clock: Clock, n: int = 200):
    rng = np.random.default_rng(3)
    created = clock.as_of - rng.integers(3600, 60 * DAY, n)
    due = created + 24 * 3600
    first_response = created + rng.integers(600, 20 * 3600, n)
    resolved = first_response + rng.integers(3600, 3 * DAY, n)
    return created, due, first_response, resolved


def test_the_last_fortnight_has_a_queue_and_older_cases_are_left_alone():
    clock = Clock.ending(dt.date(2025, 3, 1), "Europe/Warsaw")
    created, due, first_response, resolved = cases(clock)
    answered, done = hold_recent_cases(created, due, first_response, resolved, clock, seed=1)
    recent = created >= clock.as_of - BACKLOG_DAYS * DAY
    assert (answered[~recent] == first_response[~recent]).all() and (done[~recent] == resolved[~recent]).all()
    open_now = recent & (done > clock.as_of)
    overdue = recent & (answered > clock.as_of) & (due < clock.as_of)
    assert open_now.sum() >= 5 and overdue.any()
    assert (answered[recent] >= first_response[recent]).all()  # the desk is slower, never faster
    assert (answered >= created).all() and (done >= answered).all()
    assert not (overdue & (done <= clock.as_of)).any()  # unanswered cases are not resolved


def test_one_case_is_overdue_even_when_the_draw_leaves_none():
    clock = Clock.ending(dt.date(2025, 3, 1), "UTC")
    created = np.array([clock.as_of - 3 * DAY])
    due = created + 8 * 3600
    answered, _ = hold_recent_cases(created, due, created + 3600, created + 7200, clock, seed=1)
    assert answered[0] > clock.as_of


def test_the_same_seed_holds_the_same_cases():
    clock = Clock.ending(dt.date(2025, 3, 1), "UTC")
    first = hold_recent_cases(*cases(clock), clock, seed=5)
    again = hold_recent_cases(*cases(clock), clock, seed=5)
    assert all((a == b).all() for a, b in zip(first, again, strict=True))
