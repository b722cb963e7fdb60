"""Record filters that would overflow (dates at the ends of the calendar, numbers of a million digits)
are refused with a message on list pages, exports and the API, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from quota.accounts.models import Role
from quota.crm.filtersets import DealFilterSet
from quota.testing.factories import DealFactory, UserFactory

pytestmark = pytest.mark.django_db

BAD = [
    ({"closed_after": "9999-12-31T23:00:00-10:00"}, "Choose a date between"),  # UTC would be year 10000
    ({"closed_before": "0001-01-01T00:00:00+01:00"}, "Choose a date between"),  # UTC would be year 0
    ({"expected_close_after": "9999-12-31"}, "Choose a date between"),
    ({"min_amount": "-1e999999"}, "greater than or equal to"),
    ({"max_amount": "1e999999"}, "less than or equal to"),
]


@pytest.fixture
def director(client):
    user = UserFactory(role=Role.DIRECTOR, team=None)
    client.force_login(user)
    DealFactory(owner=user, title="Kept deal")
    return user


@pytest.mark.parametrize(("params", "message"), BAD)
def test_the_filterset_refuses_them(params, message):
    filterset = DealFilterSet(params)
    assert not filterset.is_valid() and message in str(filterset.errors)


@pytest.mark.parametrize(("params", "message"), BAD)
def test_a_list_page_says_why_and_answers_400(client, director, params, message):
    response = client.get(reverse("crm:deal_list"), params)
    assert response.status_code == 400 and message in response.content.decode()
    partial = client.get(reverse("crm:deal_list"), params, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="record-table")
    assert partial.status_code == 400 and message in partial.content.decode() and "<table" not in partial.content.decode()


@pytest.mark.parametrize(("params", "message"), BAD)
def test_an_export_is_refused_rather_than_unfiltered(client, director, params, message):
    response = client.get(reverse("crm:deal_export"), {**params, "format": "csv"})
    assert response.status_code == 400 and message in response.content.decode()


@pytest.mark.parametrize(("params", "message"), BAD)
def test_the_api_answers_400(director, params, message):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=director).key}")
    response = api.get("/api/deals/", params)
    assert response.status_code == 400 and message in response.content.decode()


def test_filters_within_the_bounds_still_filter(client, director):
    response = client.get(reverse("crm:deal_list"), {"closed_after": "1900-01-01T00:00:00", "min_amount": "-5", "title": "Kept"})
    assert response.status_code == 200
    assert "Kept deal" not in response.content.decode()  # an open deal has no closing date
    assert "Kept deal" in client.get(reverse("crm:deal_list"), {"title": "Kept"}).content.decode()
