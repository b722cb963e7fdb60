"""The notifications page, marking read, the unread count and `quota notify check`."""

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from quota.notifications.context_processors import unread_notifications
from quota.notifications.models import Notification, NotificationKind
from quota.notifications.services import notifications_mark_read, notify
from quota.testing.commands import run_command


@pytest.fixture
def notes(people):
    first = notify(user=people.rep_north, kind=NotificationKind.TARGET_BEHIND, title="Calls behind", body="...", dedupe_key="a")
    second = notify(
        user=people.rep_north, kind=NotificationKind.TARGET_BEHIND, title="Won deals behind", body="...", dedupe_key="b"
    )
    notify(user=people.rep_south, kind=NotificationKind.TARGET_BEHIND, title="South's own", body="...", dedupe_key="a")
    return first, second


def test_a_repeat_is_not_a_new_notification(people, notes):
    assert notify(user=people.rep_north, kind=NotificationKind.TARGET_BEHIND, title="Again", body="", dedupe_key="a") is None
    assert Notification.objects.filter(user=people.rep_north).count() == 2


def test_the_list_shows_only_ones_own(client, people, notes):
    client.force_login(people.rep_north)
    page = client.get(reverse("notifications:list")).content.decode()
    assert "Calls behind" in page and "Won deals behind" in page and "South" not in page
    assert "Mark all as read" in page


def test_marking_one_and_all_read(client, people, notes):
    first, second = notes
    client.force_login(people.rep_north)
    assert client.post(reverse("notifications:read", args=[first.pk])).status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.is_read and not second.is_read
    client.post(reverse("notifications:read_all"))
    assert not Notification.objects.filter(user=people.rep_north, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=people.rep_south, read_at__isnull=True).count() == 1


def test_one_cannot_mark_someone_elses(client, people, notes):
    south = Notification.objects.get(user=people.rep_south)
    client.force_login(people.rep_north)
    client.post(reverse("notifications:read", args=[south.pk]))
    south.refresh_from_db()
    assert not south.is_read


def test_opening_goes_to_the_link_only_on_this_site(client, people, notes):
    first, _second = notes
    client.force_login(people.rep_north)
    assert (
        client.post(reverse("notifications:read", args=[first.pk]), {"next": "/activities/?owner=3"})["Location"]
        == "/activities/?owner=3"
    )
    assert client.post(reverse("notifications:read", args=[first.pk]), {"next": "https://evil.example/"})["Location"] == reverse(
        "notifications:list"
    )


def test_the_unread_count_for_the_top_bar(people, notes, django_assert_num_queries):
    request = RequestFactory().get("/")
    request.user = people.rep_north
    context = unread_notifications(request)
    with django_assert_num_queries(1):
        html = render_to_string("notifications/_bell.html", {"user": people.rep_north, **context})
    assert reverse("notifications:list") in html and ">2</span>" in html
    notifications_mark_read(user=people.rep_north)
    assert ">" + "0</span>" not in render_to_string(
        "notifications/_bell.html", {"user": people.rep_north, **unread_notifications(request)}
    )


def test_the_command_runs_the_checks(people):
    assert run_command("notify", "check") == (
        "Notified: 0 about targets behind pace, 0 about targets the forecast finds unlikely, 0 about thin pipelines, "
        "0 about stalling reps.\n"
    )
