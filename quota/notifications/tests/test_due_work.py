"""Tasks and follow-ups due today and stale deals: told in the app by the hourly check, each once."""

import datetime as dt

import pytest
from django.utils import formats, timezone, translation

from quota.activities.models import Activity
from quota.crm.services import deal_close_lost, deal_create
from quota.notifications.models import Notification, NotificationKind
from quota.notifications.services import due_work_check
from quota.testing.clock import clock_at
from quota.testing.factories import DealFactory, TaskFactory, UserFactory, loss_reason

NOW = dt.datetime(2026, 5, 13, 8, tzinfo=dt.UTC)  # a Wednesday morning (10:00 in Warsaw, 09:00 in London)


@pytest.fixture(autouse=True)
def pinned_clock():
    with clock_at(NOW, tick=False):
        yield


def task(owner, subject, due, **fields):
    return TaskFactory(owner=owner, subject=subject, occurred_at=due, **fields)


@pytest.fixture
def work(people):
    nils, sven = people.rep_north, people.rep_south
    task(nils, "Send the quote", NOW + dt.timedelta(hours=3))
    task(nils, "Yesterday's call", NOW - dt.timedelta(days=1))  # overdue: on the dashboard, not told again
    task(nils, "Done", NOW + dt.timedelta(hours=1), completed_at=NOW)
    task(UserFactory(is_active=False), "Gone", NOW)  # a person who left is not told
    reason = loss_reason("Bad timing")
    reason.follow_up_after_days = 90
    reason.save()
    lost = deal_create(by=None, title="Fleet renewal", owner=sven, created_at=NOW - dt.timedelta(days=100))
    deal_close_lost(deal=lost, by=None, reason=reason, at=NOW - dt.timedelta(days=90, hours=1))  # its follow-up is due now
    DealFactory(title="Forgotten 1", owner=sven, created_at=NOW - dt.timedelta(days=40))
    DealFactory(title="Forgotten 2", owner=sven, created_at=NOW - dt.timedelta(days=31))
    DealFactory(title="Lively", owner=nils, created_at=NOW - dt.timedelta(days=2))
    return people


def test_tasks_follow_ups_and_stale_deals_are_told_once(work, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        assert due_work_check(now=NOW) == {"tasks_due": 1, "follow_ups_due": 1, "deals_stale": 1}
        assert due_work_check(now=NOW + dt.timedelta(hours=1)) == {"tasks_due": 0, "follow_ups_due": 0, "deals_stale": 0}
    notes = {(n.user, n.kind): n for n in Notification.objects.all()}
    assert set(notes) == {
        (work.rep_north, NotificationKind.TASK_DUE),
        (work.rep_south, NotificationKind.FOLLOW_UP_DUE),
        (work.rep_south, NotificationKind.DEALS_STALE),
    }
    assert notes[work.rep_north, NotificationKind.TASK_DUE].title == "Due today: Send the quote"
    follow_up = notes[work.rep_south, NotificationKind.FOLLOW_UP_DUE]
    assert follow_up.title == "Due today: Follow up on lost deal: Fleet renewal"
    assert "Fleet renewal was lost (Bad timing): time to try again." in follow_up.body
    stale = notes[work.rep_south, NotificationKind.DEALS_STALE]
    assert stale.title == "2 of your deals are stale" and "for 30 days or more" in stale.body
    assert stale.link == f"/crm/deals/?owner={work.rep_south.pk}&flag=stale"
    assert mailoutbox == []  # in the app only: the digest carries them by e-mail


def test_the_next_day_and_the_next_week(work):
    due_work_check(now=NOW)
    assert due_work_check(now=NOW + dt.timedelta(days=1))["deals_stale"] == 0  # stale deals: once a week
    task(work.rep_north, "Tomorrow's", NOW + dt.timedelta(days=1))
    assert due_work_check(now=NOW + dt.timedelta(days=1))["tasks_due"] == 1  # a new day's task
    assert due_work_check(now=NOW + dt.timedelta(weeks=1))["deals_stale"] == 1


def test_the_message_is_in_the_persons_language(work):
    """Written in the person's language when the note is made: here, the due time as Polish writes it."""
    work.rep_south.language = "pl"
    work.rep_south.save()
    due_work_check(now=NOW)
    note = Notification.objects.get(user=work.rep_south, kind=NotificationKind.FOLLOW_UP_DUE)
    due = timezone.localtime(Activity.objects.get(subject__startswith="Follow up").occurred_at)
    with translation.override("pl"):
        polish = formats.time_format(due, "TIME_FORMAT")
    with translation.override("en"):
        english = formats.time_format(due, "TIME_FORMAT")
    assert polish != english and polish in note.body and english not in note.body


def test_the_scheduler_runs_the_check_hourly_and_repeats_nothing(work, settings):
    """The entry as declared for beat, run by the embedded scheduler (core.periodic), twice an hour apart."""
    from quota.core.periodic import run_due
    from quota.settings.base import CELERY_BEAT_SCHEDULE

    settings.CELERY_BEAT_SCHEDULE = {"notifications-due-work": CELERY_BEAT_SCHEDULE["notifications-due-work"]}
    (first,) = run_due(now=NOW)
    assert not first.failed and first.result == {"tasks_due": 1, "follow_ups_due": 1, "deals_stale": 1}
    with clock_at(NOW + dt.timedelta(hours=1, minutes=1), tick=False):
        (second,) = run_due(now=NOW + dt.timedelta(hours=1, minutes=1))
    assert second.result == {"tasks_due": 0, "follow_ups_due": 0, "deals_stale": 0}
    assert Notification.objects.count() == 3
