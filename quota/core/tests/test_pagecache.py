"""Pages kept whole stay live: served again only while nothing they read has changed, and only to their user."""

import datetime as dt
import re

import pytest
import time_machine
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client
from django.urls import reverse

from quota.crm.models import Company
from quota.crm.services import deal_close_won
from quota.testing.factories import CallFactory, DealFactory
from quota.testing.views import queries_for

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 6, 11, 9, 30, 15, tzinfo=dt.UTC)
KEPT_QUERIES = 3  # the session and the user (signed-in middleware), and the versions live in the cache: no page query
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def kept(settings):
    settings.PAGE_CACHE_SECONDS = 60
    cache.clear()
    with time_machine.travel(NOW, tick=False) as clock:
        yield clock
    cache.clear()


@pytest.fixture
def rep_client(client, people):
    client.force_login(people["rep"])
    return client


def committed(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks(execute=True)


def test_a_page_asked_again_is_served_without_a_query_of_its_own(rep_client, people):
    DealFactory(owner=people["rep"], title="Kept deal")
    url = reverse("crm:deal_list")
    first = queries_for(rep_client, url)
    assert queries_for(rep_client, url) <= KEPT_QUERIES < first
    assert "Kept deal" in rep_client.get(url).content.decode()


def test_a_write_shows_on_the_next_request(rep_client, people, django_capture_on_commit_callbacks):
    url = reverse("crm:deal_list")
    rep_client.get(url)
    with committed(django_capture_on_commit_callbacks):
        DealFactory(owner=people["rep"], title="Just added")
    assert "Just added" in rep_client.get(url).content.decode()
    with committed(django_capture_on_commit_callbacks):
        Company.objects.update(name="Renamed by an update")  # no signal: seen all the same
    assert "Renamed by an update" in rep_client.get(url).content.decode()


def test_a_call_on_a_deal_not_shown_keeps_the_board_and_one_on_a_shown_deal_renews_it(
    rep_client, people, django_capture_on_commit_callbacks
):
    long_ago = NOW - dt.timedelta(days=90)
    shown = DealFactory(owner=people["rep"], title="Quiet deal", created_at=long_ago, stage_changed_at=long_ago)
    elsewhere = DealFactory(owner=people["rep"], title="Won one", created_at=long_ago, stage_changed_at=long_ago)
    deal_close_won(deal=elsewhere, by=people["rep"])  # closed: not on the board
    url = reverse("crm:board")
    page = rep_client.get(url).content.decode()
    assert f'data-deal="{shown.pk}"' in page and "flag-stale" in page
    with committed(django_capture_on_commit_callbacks):
        CallFactory(deal=elsewhere, owner=people["rep"], occurred_at=NOW)
    assert queries_for(rep_client, url) <= KEPT_QUERIES
    with committed(django_capture_on_commit_callbacks):
        CallFactory(deal=shown, owner=people["rep"], occurred_at=NOW)
    assert "flag-stale" not in rep_client.get(url).content.decode()


def test_a_page_is_kept_for_its_user_only(client, people, django_capture_on_commit_callbacks):
    DealFactory(owner=people["rep"], title="North deal")
    DealFactory(owner=people["south_rep"], title="South deal")
    url = reverse("crm:deal_list")
    client.force_login(people["rep"])
    assert "North deal" in client.get(url).content.decode()
    other = Client()
    other.force_login(people["south_rep"])
    page = other.get(url).content.decode()
    assert "South deal" in page and "North deal" not in page


def test_a_change_of_walls_renews_every_page(rep_client, people, django_capture_on_commit_callbacks):
    DealFactory(owner=people["teammate"], title="Teammate's deal")
    url = reverse("crm:deal_list")
    assert "Teammate&#x27;s deal" in rep_client.get(url).content.decode()
    with committed(django_capture_on_commit_callbacks):
        people["rep"].team = people["south_rep"].team
        people["rep"].save()
    assert "Teammate&#x27;s deal" not in rep_client.get(url).content.decode()


def test_the_next_minute_renders_again(rep_client, kept):
    url = reverse("crm:deal_list")
    rep_client.get(url)
    kept.shift(dt.timedelta(minutes=1))
    assert queries_for(rep_client, url) > KEPT_QUERIES


def test_each_language_and_htmx_target_is_a_page_of_its_own(rep_client):
    url = reverse("crm:deal_list")
    english = rep_client.get(url).content.decode()
    polish = rep_client.get(url, headers={"Accept-Language": "pl"}).content.decode()
    assert polish != english and 'lang="pl"' in polish
    partial = rep_client.get(url, headers={"HX-Request": "true", "HX-Target": "record-table"}).content.decode()
    assert "<html" not in partial


def test_a_kept_page_carries_the_csrf_token_of_whoever_asks(people):
    url = reverse("crm:deal_list")
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    for browser in (first, second):
        browser.force_login(people["rep"])
    first.get(url)
    response = second.get(url)
    tokens = set(TOKEN.findall(response.content.decode()))
    assert tokens, "the list has a form with a CSRF token"
    secret = response.cookies["csrftoken"].value
    assert all(_unmask_cipher_token(token) == secret for token in tokens)


def test_a_page_with_a_message_to_show_is_not_kept(rep_client, people):
    DealFactory(owner=people["rep"])
    url = reverse("crm:deal_list")
    rep_client.get(url)
    storage = CookieStorage(HttpRequest())  # as a view leaves it before a redirect
    storage.add(messages.SUCCESS, "Saved for you.")
    response = HttpResponse()
    storage.update(response)
    rep_client.cookies[storage.cookie_name] = response.cookies[storage.cookie_name].value
    assert "Saved for you." in rep_client.get(url).content.decode()
    assert "Saved for you." not in rep_client.get(url).content.decode()


def test_off_without_a_shared_cache(rep_client, settings):
    settings.PAGE_CACHE_SECONDS = 0
    url = reverse("crm:deal_list")
    rep_client.get(url)
    assert queries_for(rep_client, url) > KEPT_QUERIES


def test_a_custom_field_changed_shows_on_the_next_request(rep_client, people, django_capture_on_commit_callbacks):
    """Definitions come from a cache of their own: the page still depends on their table."""
    from quota.crm.custom_fields import definitions
    from quota.crm.models import CustomField

    with committed(django_capture_on_commit_callbacks):
        field = CustomField.objects.create(target="deal", key="plan", label="Plan", field_type="text")
    deal = DealFactory(owner=people["rep"], custom={"plan": "Gold"})
    url = reverse("crm:deal_detail", args=[deal.pk])
    definitions("deal")  # read by another request before: the page's request reads no SQL for them
    assert "Plan" in rep_client.get(url).content.decode()
    rep_client.get(url)
    with committed(django_capture_on_commit_callbacks):
        field.label = "Contract plan"
        field.save()
    assert "Contract plan" in rep_client.get(url).content.decode()
