"""Reps with no won deal and falling activity are flagged to their manager, once a week."""

import datetime as dt

import pytest

from quota.activities.models import ActivityKind
from quota.notifications.checks import stalling_reps
from quota.notifications.models import Notification, NotificationKind
from quota.notifications.services import early_warnings_check
from quota.reports.tests.helpers import won
from quota.testing.factories import CallFactory, MeetingFactory

NOW = dt.datetime(2025, 3, 12, 9, tzinfo=dt.UTC)


def calls(owner, count, weeks_ago):
    for n in range(count):
        CallFactory(owner=owner, occurred_at=NOW - dt.timedelta(weeks=weeks_ago, hours=n + 1))


@pytest.fixture
def activity(people):
    calls(people.rep_north, 6, weeks_ago=6)  # busy before ...
    calls(people.rep_north, 2, weeks_ago=1)  # ... quiet lately, and no win: stalling
    calls(people.rep_north2, 6, weeks_ago=6)
    calls(people.rep_north2, 1, weeks_ago=1)
    won(people.rep_north2, "Saved by a win", "500", "2025-02-01", "2025-03-03")  # quiet but winning: fine
    calls(people.rep_south, 2, weeks_ago=6)
    MeetingFactory.create_batch(3, owner=people.rep_south, occurred_at=NOW - dt.timedelta(days=3))  # busier: fine
    calls(people.manager_north, 9, weeks_ago=6)  # managers are not reps
    return people


def test_only_the_quiet_rep_without_a_win_is_stalling(activity, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):  # one grouped query for every rep, then teams, managers and names
        found = stalling_reps(now=NOW)
    assert [(s.rep, s.recent, s.earlier, s.weeks) for s in found] == [(activity.rep_north, 2, 6, 4)]
    assert found[0].managers == [activity.manager_north]


def test_tasks_are_not_activity(activity):
    from quota.testing.factories import CallFactory as Task

    for n in range(10):
        Task(
            owner=activity.rep_north,
            kind=ActivityKind.TASK,
            direction="",
            answered=None,
            occurred_at=NOW - dt.timedelta(days=n + 1),
        )
    assert [s.rep for s in stalling_reps(now=NOW)] == [activity.rep_north]


def test_the_manager_is_told_once_a_week(activity, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert early_warnings_check(now=NOW)["reps_stalling"] == 1
        assert early_warnings_check(now=NOW + dt.timedelta(hours=5))["reps_stalling"] == 0
    (note,) = Notification.objects.all()
    assert (note.user, note.kind, note.dedupe_key) == (
        activity.manager_north,
        NotificationKind.REP_STALLING,
        f"rep-stalling:{activity.rep_north.pk}:2025-W11",
    )
    assert note.title == "Nils Northrep may be stalling"
    assert "logged 2 calls, e-mails and meetings, against 6 in the 4 weeks before" in note.body
    assert note.link == f"/activities/?owner={activity.rep_north.pk}"
    assert [m.to for m in mailoutbox] == [[activity.manager_north.email]]
    with django_capture_on_commit_callbacks(execute=True):
        assert early_warnings_check(now=NOW + dt.timedelta(weeks=1))["reps_stalling"] == 1  # a new week


def test_the_number_of_weeks_is_a_setting(activity, settings):
    settings.NOTIFICATIONS_STALL_WEEKS = 8
    assert stalling_reps(now=NOW) == []  # over eight weeks against the eight before, nobody's activity fell
