"""My tasks today on the seller's dashboard: today's open tasks and the overdue ones, each marked done in one click."""

import datetime as dt

import pytest
from django.urls import reverse

from quota.activities.models import Activity
from quota.activities.selectors import my_tasks_today
from quota.crm.models import Deal
from quota.testing.clock import clock_at
from quota.testing.factories import CallFactory, DealFactory, TaskFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 5, 13, 10, tzinfo=dt.UTC)  # mid-morning in any time zone near Europe: the same company day
MY_TASK = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def pinned_clock():
    with clock_at(NOW, tick=False):
        yield


def task(owner, subject, due, done=False):
    return TaskFactory(owner=owner, subject=subject, occurred_at=due, completed_at=due if done else None)


@pytest.fixture
def tasks(people):
    rep = people["rep"]
    task(rep, "This morning", NOW - dt.timedelta(hours=1))
    task(rep, "This afternoon", NOW + dt.timedelta(hours=2))
    task(rep, "Last week", NOW - dt.timedelta(days=7))
    task(rep, "Done already", NOW - dt.timedelta(hours=2), done=True)
    task(rep, "Next week", NOW + dt.timedelta(days=7))
    task(people["teammate"], "Teammate's", NOW)
    CallFactory(owner=rep, subject="A call, not a task", occurred_at=NOW)
    return rep


def test_today_and_the_overdue_ones_marked(tasks, django_assert_num_queries):
    with django_assert_num_queries(2):  # today's and the earlier ones; the count only when the list is full
        found = my_tasks_today(user=tasks, now=NOW)
    assert [(t.subject, t.is_overdue) for t in found.today] == [("This morning", True), ("This afternoon", False)]
    assert [(t.subject, t.is_overdue) for t in found.earlier] == [("Last week", True)]
    assert found.earlier_count == 1 and found.more_earlier == 0


def test_the_dashboard_shows_them_and_marks_one_done_in_place(client, tasks):
    client.force_login(tasks)
    page = client.get(reverse("dashboards:board", args=["my"])).content.decode()
    assert "My tasks today" in page and "This afternoon" in page and "Last week" in page
    assert "Teammate&#x27;s" not in page and "Next week" not in page
    afternoon = Activity.objects.get(subject="This afternoon")
    response = client.post(
        reverse("activities:task_done", args=[afternoon.pk]), HTTP_HX_TARGET=f"my-task-{afternoon.pk}", **MY_TASK
    )
    html = response.content.decode()
    assert response.status_code == 200 and html.startswith(f'<li id="my-task-{afternoon.pk}" class="done">')
    afternoon.refresh_from_db()
    assert afternoon.completed_at is not None


def test_one_cannot_tick_a_teammates_task(client, people, tasks):
    theirs = Activity.objects.get(subject="Teammate's")
    client.force_login(tasks)
    response = client.post(reverse("activities:task_done", args=[theirs.pk]), HTTP_HX_TARGET=f"my-task-{theirs.pk}", **MY_TASK)
    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.completed_at is None


def test_closing_this_period_marks_overdue_deals_and_counts_older_ones(client, people):
    rep = people["rep"]
    DealFactory(title="Due last week", owner=rep, expected_close_date=dt.date(2026, 5, 6))
    DealFactory(title="Due next week", owner=rep, expected_close_date=dt.date(2026, 5, 20))
    DealFactory(title="Due in 2025", owner=rep, expected_close_date=dt.date(2025, 11, 30))
    client.force_login(rep)
    response = client.get(reverse("dashboards:board", args=["my"]))
    flags = {deal.title: deal.is_overdue for deal in response.context["closing"]}
    assert flags == {"Due last week": True, "Due next week": False}
    assert response.context["overdue_deals"] == Deal.objects.filter(title__startswith="Due l").count() + 1 == 2
    assert "2 overdue deals" in response.content.decode()
