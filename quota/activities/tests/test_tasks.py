"""Tasks: marked done and reopened from their page and, in one click, from the timelines they appear in."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from quota.accounts.models import Role, Team
from quota.activities.models import Activity, ActivityKind
from quota.activities.services import task_complete, task_reopen
from quota.kpi import rollups
from quota.kpi.builder import save
from quota.kpi.definitions import parse
from quota.kpi.engine import evaluate
from quota.testing.factories import CallFactory, DealFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def people():
    north = Team.objects.create(name="North")
    return {
        "rep": UserFactory(team=north),
        "teammate": UserFactory(team=north),
        "manager": UserFactory(team=north, role=Role.MANAGER),
        "south_rep": UserFactory(team=Team.objects.create(name="South")),
    }


def task(owner, **fields):
    fields.setdefault("subject", "Send the quote")
    return Activity.objects.create(kind=ActivityKind.TASK, owner=owner, **fields)


# --------------------------------------------------------------------------- the services


def test_done_and_reopened(people):
    rep = people["rep"]
    todo = task(rep)
    when = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    assert task_complete(task=todo, by=rep, at=when).completed_at == when
    assert task_complete(task=todo, by=rep).completed_at == when  # done twice: still done when it was first done
    assert task_reopen(task=todo, by=rep).completed_at is None
    todo.refresh_from_db()
    assert todo.completed_at is None


def test_only_tasks_are_done(people):
    call = CallFactory(owner=people["rep"])
    with pytest.raises(ValidationError, match="Only tasks"):
        task_complete(task=call, by=people["rep"])
    call.refresh_from_db()
    assert call.completed_at is None


def test_only_who_may_change_the_task_ticks_it(people):
    todo = task(people["rep"])
    for outsider in (people["teammate"], people["south_rep"]):
        with pytest.raises(PermissionDenied):
            task_complete(task=todo, by=outsider)
    task_complete(task=todo, by=people["manager"])  # the team's manager may
    with pytest.raises(PermissionDenied):
        task_reopen(task=todo, by=people["teammate"])
    todo.refresh_from_db()
    assert todo.completed_at is not None


def test_a_kpi_of_done_tasks_follows_them_also_from_rollups(people, django_capture_on_commit_callbacks):
    """The built-in KPIs do not count tasks; one built on `completed_at` stays right, rolled up or not."""
    done_tasks = parse(
        {
            "source": "activities",
            "date": "occurred_at",
            "filters": [
                {"field": "kind", "op": "eq", "value": "task"},
                {"field": "completed_at", "op": "isnull", "value": False},
            ],
            "measure": {"kind": "count"},
            "unit": "count",
            "better": "higher",
        }
    )
    # A KPI someone built in the builder.
    save(definition=done_tasks, key="tasks_done", name="Tasks done", description="Tasks done, by due date.", by=None)
    day = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    first, second = task(people["rep"], occurred_at=day), task(people["rep"], occurred_at=day)
    rollups.rebuild()
    rolled_up = [leaf for leaf in rollups.rollup_leaves() if any(f.field == "completed_at" for f in leaf.filters)]
    assert rolled_up and rollups.all_fresh()  # so the values are read from rollups, and compared with the records'

    def value():
        window = {"start": dt.date(2026, 3, 1), "end": dt.date(2026, 3, 31), "every": "none", "compare": False}
        result = evaluate(["tasks_done"], user=None, **window)["tasks_done"]
        with rollups.bypassed():
            from_records = evaluate(["tasks_done"], user=None, **window)["tasks_done"]
        assert result.points[0].value == from_records.points[0].value
        return result.points[0].value

    assert value() == 0
    with django_capture_on_commit_callbacks(execute=True):
        task_complete(task=first, by=people["rep"])
        task_complete(task=second, by=people["rep"])
    assert value() == 2
    with django_capture_on_commit_callbacks(execute=True):
        task_reopen(task=second, by=people["rep"])
    assert value() == 1


# --------------------------------------------------------------------------- the task's page


def test_the_tasks_page_offers_mark_done_then_reopen_in_two_clicks(client, people):
    rep = people["rep"]
    todo = task(rep)
    client.force_login(rep)
    detail = reverse("activities:activity_detail", args=[todo.pk])
    done_url = reverse("activities:task_done", args=[todo.pk])
    assert [a.url for a in client.get(detail).context["actions"] if a.url == done_url]  # click 1: the button
    assert "<html" not in client.get(done_url, **HTMX).content.decode()  # its confirming form, in the page
    response = client.post(done_url, **HTMX)  # click 2
    assert response["HX-Redirect"] == detail
    todo.refresh_from_db()
    assert todo.completed_at is not None
    actions = client.get(detail).context["actions"]
    assert reverse("activities:task_reopen", args=[todo.pk]) in [a.url for a in actions]
    assert done_url not in [a.url for a in actions]
    client.post(reverse("activities:task_reopen", args=[todo.pk]))
    todo.refresh_from_db()
    assert todo.completed_at is None


def test_other_activities_get_no_done_button(client, people):
    call = CallFactory(owner=people["rep"])
    client.force_login(people["rep"])
    urls = [a.url for a in client.get(reverse("activities:activity_detail", args=[call.pk])).context["actions"]]
    assert reverse("activities:task_done", args=[call.pk]) not in urls


def test_a_teammate_may_read_the_task_but_not_tick_it(client, people):
    todo = task(people["rep"])
    client.force_login(people["teammate"])
    assert client.get(reverse("activities:activity_detail", args=[todo.pk])).context["actions"] == []
    assert client.get(reverse("activities:task_done", args=[todo.pk])).status_code == 403
    response = client.post(reverse("activities:task_done", args=[todo.pk]), **HTMX)
    assert response.status_code == 403 and b"belongs to another person or team" in response.content
    client.force_login(people["south_rep"])
    assert client.post(reverse("activities:task_done", args=[todo.pk])).status_code == 404
    todo.refresh_from_db()
    assert todo.completed_at is None


# --------------------------------------------------------------------------- timelines and lists


def test_one_click_in_a_deals_timeline_marks_the_task_done_in_place(client, people):
    rep = people["rep"]
    deal = DealFactory(owner=rep)
    todo = task(rep, deal=deal)
    client.force_login(rep)
    page = client.get(reverse("crm:deal_detail", args=[deal.pk])).content.decode()
    done_url = reverse("activities:task_done", args=[todo.pk])
    assert f'hx-post="{done_url}" hx-target="#activity-{todo.pk}"' in page
    back = {"back": reverse("crm:deal_detail", args=[deal.pk])}
    response = client.post(done_url, back, HTTP_HX_TARGET=f"activity-{todo.pk}", **HTMX)
    todo.refresh_from_db()
    assert todo.completed_at is not None
    item = response.content.decode()
    assert item.startswith(f'<li class="timeline-item kind-task task-done" id="activity-{todo.pk}">')
    assert 'class="badge badge-done"' in item and reverse("activities:task_reopen", args=[todo.pk]) in item
    # and it stays done on the next visit
    page = client.get(reverse("crm:deal_detail", args=[deal.pk])).content.decode()
    assert "task-done" in page and reverse("activities:task_reopen", args=[todo.pk]) in page


def test_without_javascript_the_timeline_button_returns_to_the_page(client, people):
    rep = people["rep"]
    deal = DealFactory(owner=rep)
    todo = task(rep, deal=deal, completed_at=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC))
    client.force_login(rep)
    back = reverse("crm:deal_detail", args=[deal.pk])
    response = client.post(reverse("activities:task_reopen", args=[todo.pk]), {"back": back})
    assert response.status_code == 302 and response["Location"] == back
    response = client.post(reverse("activities:task_done", args=[todo.pk]), {"back": "https://elsewhere.example/"})
    assert response["Location"] == reverse("activities:activity_detail", args=[todo.pk])  # never off-site


def test_the_timeline_offers_the_button_only_on_tasks_the_user_may_change(client, people):
    deal = DealFactory(owner=people["rep"])
    mine = task(people["rep"], deal=deal, subject="Mine")
    theirs = task(people["teammate"], deal=deal, subject="Teammate's")
    call = CallFactory(owner=people["rep"], deal=deal)
    client.force_login(people["rep"])
    page = client.get(reverse("crm:deal_detail", args=[deal.pk])).content.decode()
    assert reverse("activities:task_done", args=[mine.pk]) in page
    assert "Teammate&#x27;s" in page and reverse("activities:task_done", args=[theirs.pk]) not in page
    assert reverse("activities:task_done", args=[call.pk]) not in page
    client.force_login(people["manager"])
    page = client.get(reverse("crm:deal_detail", args=[deal.pk])).content.decode()
    assert reverse("activities:task_done", args=[theirs.pk]) in page  # a manager changes the team's records


def test_the_activity_list_shows_when_a_task_was_done(client, people):
    rep = people["rep"]
    task(rep, subject="Open one")
    task(rep, subject="Done one", completed_at=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC))
    client.force_login(rep)
    response = client.get(reverse("activities:activity_list"), {"sort": "-completed_at"})
    assert [a.subject for a in response.context["page"].object_list] == ["Done one", "Open one"]
    assert '<time datetime="2026-03-02T09:00:00+00:00">' in response.content.decode()
