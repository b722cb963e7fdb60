"""Login lockout (django-axes): ten wrong passwords lock a username (and an address) for the cool-off,
even against the right password; the page says so and until when; an administrator can unlock."""

import datetime as dt
from io import StringIO

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from quota.testing.commands import run_command
from quota.testing.factories import UserFactory

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
LOGIN = "/login/"


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


@pytest.fixture
def alice():
    return UserFactory(username="alice", password="right-password")


def log_in(client: Client, username: str, password: str, *, path: str = LOGIN, ip: str = "198.51.100.7"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=ip)


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def fail(client: Client, times: int, username: str = "alice", **kwargs):
    return [log_in(client, username, "wrong", **kwargs) for _ in range(times)]


@pytest.mark.slow
def test_the_lockout_is_on_in_tests_with_the_documented_limits():
    assert settings.AXES_ENABLED is True
    assert settings.AXES_FAILURE_LIMIT == 10
    assert dt.timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AUTHENTICATION_BACKENDS[0].endswith("AxesBackend")


def test_nine_wrong_passwords_then_the_right_one_logs_in(client, alice, clock):
    assert [r.status_code for r in fail(client, 9)] == [200] * 9
    assert log_in(client, "alice", "right-password").status_code == 302
    assert logged_in(client)


def test_ten_wrong_passwords_lock_the_account_and_the_right_password_is_refused(client, alice, clock):
    responses = fail(client, 10)
    assert [r.status_code for r in responses[:9]] == [200] * 9
    assert responses[9].status_code == 429  # the tenth failure already shows the lockout

    clock.shift(dt.timedelta(minutes=1))
    refused = log_in(client, "alice", "right-password")
    assert refused.status_code == 429
    assert not logged_in(client)
    page = refused.content.decode()
    assert "Account locked" in page and "10 failed log-in attempts" in page
    assert "Try again in 14\xa0minutes (at 09:15)" in page
    assert "ask an administrator to unlock it" in page


def test_the_lockout_ends_after_the_cool_off(client, alice, clock):
    fail(client, 10)
    clock.shift(dt.timedelta(minutes=14, seconds=59))
    assert log_in(client, "alice", "right-password").status_code == 429
    clock.shift(dt.timedelta(seconds=2))
    assert log_in(client, "alice", "right-password").status_code == 302
    assert logged_in(client)


def test_tries_during_the_lockout_do_not_make_it_longer(client, alice, clock):
    fail(client, 10)
    for _ in range(5):
        clock.shift(dt.timedelta(minutes=2))
        assert log_in(client, "alice", "wrong").status_code == 429
    clock.shift(dt.timedelta(minutes=5, seconds=1))  # 15 min after the tenth failure
    assert log_in(client, "alice", "right-password").status_code == 302


def test_the_cool_off_is_a_setting(client, alice, clock, settings):
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=2)
    fail(client, 10)
    clock.shift(dt.timedelta(minutes=1))
    assert log_in(client, "alice", "right-password").status_code == 429
    clock.shift(dt.timedelta(minutes=1, seconds=1))
    assert log_in(client, "alice", "right-password").status_code == 302


def test_a_locked_username_is_locked_from_every_address(client, alice, clock):
    fail(client, 10, ip="198.51.100.7")
    assert log_in(Client(), "alice", "right-password", ip="203.0.113.9").status_code == 429


def test_an_address_that_guessed_ten_times_is_locked_for_every_username(client, alice, clock):
    for number in range(10):
        log_in(client, f"guess{number}", "wrong", ip="198.51.100.66")
    assert log_in(Client(), "alice", "right-password", ip="198.51.100.66").status_code == 429
    assert log_in(Client(), "alice", "right-password", ip="203.0.113.9").status_code == 302


def test_behind_a_proxy_the_client_is_the_forwarded_address(client, alice, clock, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for number in range(10):
        client.post(
            LOGIN, {"username": f"guess{number}", "password": "x"}, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.66"
        )
    assert AccessAttempt.objects.filter(ip_address="198.51.100.66").count() == 10
    other = Client().post(
        LOGIN, {"username": "alice", "password": "right-password"}, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9"
    )
    assert other.status_code == 302  # the proxy's own address is not what gets locked


def test_the_admin_login_is_watched_and_locked_too(client, clock):
    UserFactory(username="boss", password="right-password", is_staff=True, is_superuser=True)
    admin_login = reverse("admin:login")
    responses = fail(client, 10, username="boss", path=admin_login)
    assert responses[9].status_code == 429
    assert log_in(client, "boss", "right-password", path=admin_login).status_code == 429
    assert log_in(Client(), "boss", "right-password").status_code == 429  # the same lock on the main login


def test_quota_unlock_ends_the_lockout_at_once(client, alice, clock):
    fail(client, 10)
    assert "Unlocked alice" in run_command("unlock", "alice")
    assert log_in(client, "alice", "right-password").status_code == 302


def test_quota_unlock_of_an_address(client, alice, clock):
    for number in range(10):
        log_in(client, f"guess{number}", "wrong", ip="198.51.100.66")
    call_command("unlock", "--ip", "198.51.100.66", stdout=StringIO())
    assert log_in(Client(), "alice", "right-password", ip="198.51.100.66").status_code == 302


def test_quota_unlock_of_someone_not_locked_says_so():
    assert "nothing to unlock" in run_command("unlock", "nobody")


def test_quota_unlock_without_a_name_is_refused():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="USERNAME"):
        call_command("unlock")


def test_an_administrator_unlocks_in_the_admin(client, alice, clock):
    fail(client, 10)
    admin = UserFactory(is_staff=True, is_superuser=True)
    staff = Client()
    staff.force_login(admin)
    listing = staff.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200 and "alice" in listing.content.decode()
    attempt_ids = [str(pk) for pk in AccessAttempt.objects.filter(username="alice").values_list("pk", flat=True)]
    staff.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "delete_selected", "_selected_action": attempt_ids, "post": "yes"},
    )
    assert not AccessAttempt.objects.filter(username="alice").exists()
    assert log_in(client, "alice", "right-password").status_code == 302


def test_client_login_and_force_login_still_work_in_tests(alice):
    assert Client().login(username="alice", password="right-password") is True
    assert Client().login(username="alice", password="wrong") is False
    forced = Client()
    forced.force_login(alice)
    assert forced.get("/").status_code == 200


@pytest.mark.parametrize(
    ("proxies", "meta", "expected"),
    [
        (0, {"REMOTE_ADDR": "198.51.100.7", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}, "198.51.100.7"),
        (1, {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "10.0.0.1, 203.0.113.9"}, "203.0.113.9"),
        (2, {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9, 10.0.0.1"}, "203.0.113.9"),
        (1, {"REMOTE_ADDR": "127.0.0.1"}, "127.0.0.1"),  # no header: the proxy's own request
        (0, {}, None),  # a test client's login, a Unix socket: unknown, stored as NULL
    ],
)
def test_client_ip(settings, proxies, meta, expected):
    from django.test import RequestFactory

    from quota.accounts.lockout import client_ip

    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/")
    request.META.pop("REMOTE_ADDR", None)
    request.META.update(meta)
    assert client_ip(request) == expected
