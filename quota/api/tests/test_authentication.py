"""API tokens: an address that keeps sending bad tokens is answered 429 (with Retry-After) for a while."""

import datetime as dt

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from quota.testing.factories import UserFactory

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
ATTACKER, OTHER = "198.51.100.7", "203.0.113.9"
# A bad token is refused with 403 ("Invalid token."): the session comes first among the authentications,
# and DRF answers 401 only when the first one names a WWW-Authenticate scheme.
REFUSED = 403


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


@pytest.fixture
def good_token():
    return Token.objects.create(user=UserFactory()).key


def get(token: str | None, ip: str, **headers):
    client = APIClient()
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get("/api/deals/", REMOTE_ADDR=ip, **headers)


def test_bad_tokens_get_429_after_ten_tries_from_one_address(clock, good_token):
    statuses = [get(f"bad{n}", ATTACKER).status_code for n in range(10)]
    assert statuses == [REFUSED] * 10
    refused = get("bad-again", ATTACKER)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert get(good_token, ATTACKER).status_code == 429  # not even a good token is looked at from there
    assert get(good_token, OTHER).status_code == 200  # other addresses are not affected
    assert get("bad", OTHER).status_code == REFUSED


def test_the_address_may_try_again_once_the_window_has_passed(clock, good_token):
    for n in range(10):
        get(f"bad{n}", ATTACKER)
    assert get(good_token, ATTACKER).status_code == 429
    clock.shift(dt.timedelta(seconds=61))
    assert get(good_token, ATTACKER).status_code == 200


def test_good_tokens_and_requests_without_one_do_not_count(clock, good_token):
    for _ in range(15):
        assert get(good_token, ATTACKER).status_code == 200
        assert get(None, ATTACKER).status_code in (401, 403)
    assert get("bad", ATTACKER).status_code == REFUSED


def test_the_rate_is_a_setting(clock, settings, good_token):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_token_failure": "3/hour"}}
    assert [get(f"bad{n}", ATTACKER).status_code for n in range(4)] == [REFUSED, REFUSED, REFUSED, 429]
    clock.shift(dt.timedelta(minutes=59))
    assert get(good_token, ATTACKER).status_code == 429
    clock.shift(dt.timedelta(minutes=1, seconds=1))
    assert get(good_token, ATTACKER).status_code == 200


def test_behind_a_proxy_the_forwarded_address_is_throttled(clock, settings, good_token):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    for n in range(10):
        get(f"bad{n}", "127.0.0.1", HTTP_X_FORWARDED_FOR=ATTACKER)
    assert get(good_token, "127.0.0.1", HTTP_X_FORWARDED_FOR=ATTACKER).status_code == 429
    assert get(good_token, "127.0.0.1", HTTP_X_FORWARDED_FOR=OTHER).status_code == 200


def test_a_session_user_is_not_affected_by_the_addresses_bad_tokens(clock):
    for n in range(10):
        get(f"bad{n}", ATTACKER)
    client = APIClient()
    client.force_login(UserFactory())
    assert client.get("/api/deals/", REMOTE_ADDR=ATTACKER).status_code == 200
