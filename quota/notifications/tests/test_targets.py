"""Targets behind pace: the person and their managers are told once per target period, by note and e-mail."""

import datetime as dt
from decimal import Decimal

import pytest

from quota.accounts.models import Role
from quota.kpi.models import Metric, Target
from quota.notifications.checks import targets_behind
from quota.notifications.models import Notification, NotificationKind
from quota.notifications.services import early_warnings_check
from quota.notifications.tests.helpers import march_target
from quota.reports.tests.helpers import won
from quota.testing.factories import UserFactory

MID_MARCH = dt.datetime(2025, 3, 16, 12, tzinfo=dt.UTC)  # 49 % of March gone
NOTHING = {"targets_behind": 0, "reps_stalling": 0, "targets_unlikely": 0, "pipelines_thin": 0}


@pytest.fixture
def march(people):
    won(people.rep_north, "One win", "1000", "2025-02-01", "2025-03-05")
    won(people.rep_north2, "Another win", "1000", "2025-02-01", "2025-03-06")
    return people


def check(now, capture):
    with capture(execute=True):
        return early_warnings_check(now=now)


def test_a_person_behind_pace_and_their_manager_are_told_once(march, mailoutbox, django_capture_on_commit_callbacks):
    target = march_target("won_deals", 10, user=march.rep_north)  # 1 of 10 with half the month gone: a fifth of the pace
    assert check(MID_MARCH, django_capture_on_commit_callbacks) == {**NOTHING, "targets_behind": 2}
    notes = Notification.objects.order_by("user__username")
    assert [n.user for n in notes] == [march.rep_north, march.manager_north]
    assert {n.kind for n in notes} == {NotificationKind.TARGET_BEHIND}
    assert {n.dedupe_key for n in notes} == {f"target-behind:{target.pk}:2025-03-01:2025-03-31"}
    assert notes[0].title == "Won deals is behind pace: Nils Northrep"
    assert "has reached 1 of the 10 target" in notes[0].body and "20 % of the expected pace" in notes[0].body
    assert sorted(m.to[0] for m in mailoutbox) == sorted([march.rep_north.email, march.manager_north.email])

    later = MID_MARCH + dt.timedelta(days=3)
    assert check(later, django_capture_on_commit_callbacks) == NOTHING  # hourly runs: no repeat
    assert Notification.objects.count() == 2 and len(mailoutbox) == 2


def test_on_pace_is_not_behind(march):
    march_target("won_deals", 2, user=march.rep_north2)  # 1 of 2 with half the month gone
    assert targets_behind(now=MID_MARCH) == []


def test_no_warning_early_in_the_period(march, settings):
    march_target("won_deals", 10, user=march.rep_south)  # nothing won yet
    assert targets_behind(now=dt.datetime(2025, 3, 3, 12, tzinfo=dt.UTC)) == []  # day three: too early to tell
    settings.NOTIFICATIONS_PACE_MIN_ELAPSED = 0.0
    assert len(targets_behind(now=dt.datetime(2025, 3, 3, 12, tzinfo=dt.UTC))) == 1


def test_the_threshold_is_a_setting(march, settings):
    march_target("won_deals", 10, user=march.rep_north)
    settings.NOTIFICATIONS_PACE_THRESHOLD = 0.1
    assert targets_behind(now=MID_MARCH) == []


def test_a_team_target_tells_the_teams_managers(march, django_capture_on_commit_callbacks):
    march_target("won_deals", 20, team=march.north)
    check(MID_MARCH, django_capture_on_commit_callbacks)
    assert [n.user for n in Notification.objects.all()] == [march.manager_north]


def test_a_team_without_a_manager_goes_to_the_manager_above(march, django_capture_on_commit_callbacks):
    head = UserFactory(username="harry", role=Role.MANAGER, team=march.sales)
    march_target("won_deals", 5, user=march.rep_south)
    check(MID_MARCH, django_capture_on_commit_callbacks)
    assert {n.user for n in Notification.objects.all()} == {march.rep_south, head}


def test_a_new_period_warns_again(march, django_capture_on_commit_callbacks):
    march_target("won_deals", 10, user=march.rep_north)
    check(MID_MARCH, django_capture_on_commit_callbacks)
    april = Target.objects.create(
        metric=Metric.objects.current().get(key="won_deals"),
        user=march.rep_north,
        period="month",
        start=dt.date(2025, 4, 1),
        end=dt.date(2025, 4, 30),
        value=Decimal(10),
    )
    check(dt.datetime(2025, 4, 16, 12, tzinfo=dt.UTC), django_capture_on_commit_callbacks)
    assert Notification.objects.filter(dedupe_key__contains=f":{april.pk}:").count() == 2


def test_targets_are_read_with_the_persons_records_only(march):
    """The engine's pace for the person is what the notification says (nothing of the other rep counts)."""
    march_target("won_deals", 10, user=march.rep_north)
    (behind,) = targets_behind(now=MID_MARCH)
    assert behind.item.progress.actual == 1.0  # the other north rep's win is not his
