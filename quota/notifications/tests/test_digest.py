"""The daily e-mail digest: opt-in, once a day from the digest hour, only with news, in the person's language."""

import datetime as dt

import pytest
from django.urls import reverse

from quota.core.tests.test_translations import compiled_catalogues  # noqa: F401 (a fixture: the .po files compiled)
from quota.notifications.models import Notification, NotificationKind, NotificationPreference
from quota.notifications.services import daily_digests_send, digest_preference_set, notify

MORNING = dt.datetime(2026, 5, 13, 6, tzinfo=dt.UTC)  # 08:00 in Warsaw: after the digest hour (7)


def note(user, key, title, at):
    made = notify(user=user, kind=NotificationKind.TASK_DUE, title=title, body=f"About {title}.", dedupe_key=key, email=False)
    Notification.objects.filter(pk=made.pk).update(created_at=at)
    return made


@pytest.fixture
def subscribed(people, settings):
    settings.TIME_ZONE = "Europe/Warsaw"
    nils = people.rep_north
    digest_preference_set(user=nils, daily_digest=True)
    note(nils, "a", "Send the quote", MORNING - dt.timedelta(hours=10))
    note(nils, "b", "Call Anna", MORNING - dt.timedelta(hours=3))
    note(people.rep_south, "c", "Not subscribed", MORNING - dt.timedelta(hours=3))  # the digest is off by default
    return nils


def test_the_digest_lists_the_unread_notifications_once_a_day(subscribed, mailoutbox):
    Notification.objects.filter(dedupe_key="b").update(read_at=MORNING)  # read: not in the digest
    assert daily_digests_send(now=MORNING) == 1
    (mail,) = mailoutbox
    assert mail.to == [subscribed.email] and mail.subject == "Quota: 1 new notification"
    assert "- [Task due] Send the quote\n  About Send the quote." in mail.body and "Call Anna" not in mail.body
    assert daily_digests_send(now=MORNING + dt.timedelta(hours=1)) == 0  # the hourly run: once a day

    note(subscribed, "d", "Tomorrow's news", MORNING + dt.timedelta(hours=5))
    assert daily_digests_send(now=MORNING + dt.timedelta(days=1)) == 1
    assert "Tomorrow's news" in mailoutbox[1].body and "Send the quote" not in mailoutbox[1].body  # only what came since


def test_not_before_the_digest_hour_and_not_without_news(subscribed, mailoutbox):
    assert daily_digests_send(now=MORNING - dt.timedelta(hours=2)) == 0  # 06:00 in Warsaw
    Notification.objects.update(read_at=MORNING)
    assert daily_digests_send(now=MORNING) == 0
    assert mailoutbox == []


@pytest.mark.usefixtures("compiled_catalogues")
def test_the_digest_is_in_the_persons_language(subscribed, mailoutbox):
    subscribed.language = "pl"
    subscribed.save()
    behind = NotificationKind.TARGET_BEHIND
    warning = notify(user=subscribed, kind=behind, title="Won deals", body="", dedupe_key="w", email=False)
    Notification.objects.filter(pk=warning.pk).update(created_at=MORNING - dt.timedelta(hours=1))
    daily_digests_send(now=MORNING)
    assert "- [Cel poniżej tempa] Won deals" in mailoutbox[0].body  # the kind's label as Polish has it
    daily_digests_send(now=MORNING + dt.timedelta(days=1))
    assert str(NotificationKind.TARGET_BEHIND.label) == "Target behind pace"  # the language is given back


def test_turning_the_digest_on_and_off(client, people):
    client.force_login(people.rep_north)
    page = client.get(reverse("notifications:list")).content.decode()
    assert 'name="daily_digest">' in page  # off by default: not checked
    client.post(reverse("notifications:digest"), {"daily_digest": "on"})
    assert NotificationPreference.objects.get(user=people.rep_north).daily_digest
    assert 'name="daily_digest" checked>' in client.get(reverse("notifications:list")).content.decode()
    client.post(reverse("notifications:digest"), {})
    assert not NotificationPreference.objects.get(user=people.rep_north).daily_digest


def test_the_bell_menu_shows_ones_own_latest(client, people):
    notify(user=people.rep_north, kind=NotificationKind.TASK_DUE, title="Mine", body="", dedupe_key="m", email=False)
    notify(user=people.rep_south, kind=NotificationKind.TASK_DUE, title="Theirs", body="", dedupe_key="t", email=False)
    client.force_login(people.rep_north)
    menu = client.get(reverse("notifications:menu")).content.decode()
    assert "Mine" in menu and "Theirs" not in menu
