"""The deal list's close-date column: the expected day of an open deal, the day a won or lost one closed."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from quota.accounts.models import Role
from quota.crm.services import deal_close_lost, deal_close_won
from quota.testing.clock import clock_at
from quota.testing.factories import DealFactory, UserFactory, loss_reason

pytestmark = pytest.mark.django_db


@pytest.fixture
def director(client):
    user = UserFactory(role=Role.DIRECTOR, team=None)
    client.force_login(user)
    return user


@pytest.fixture
def deals(director):
    with clock_at(dt.datetime(2026, 8, 1, 12, tzinfo=dt.UTC)):
        created = {"owner": director, "created_at": dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)}
        open_deal = DealFactory(title="Open", expected_close_date=dt.date(2026, 5, 20), **created)
        won = DealFactory(title="Won", expected_close_date=dt.date(2026, 12, 31), **created)
        deal_close_won(deal=won, by=director, at=dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC))
        lost = DealFactory(title="Lost", expected_close_date=dt.date(2026, 1, 6), **created)
        deal_close_lost(deal=lost, by=director, reason=loss_reason(), at=dt.datetime(2026, 7, 4, 12, tzinfo=dt.UTC))
        undated = DealFactory(title="Undated", expected_close_date=None, **created)
    return {"open": open_deal, "won": won, "lost": lost, "undated": undated}


def listed(client, **params):
    response = client.get(reverse("crm:deal_list"), params)
    assert response.status_code == 200
    return response


def test_each_deal_shows_the_day_it_closes_or_closed(client, deals):
    rows = {deal.title: deal.close_date for deal in listed(client).context["page"].object_list}
    assert rows == {"Open": dt.date(2026, 5, 20), "Won": dt.date(2026, 3, 10), "Lost": dt.date(2026, 7, 4), "Undated": None}
    page = listed(client).content.decode()
    assert "Close date" in page and 'datetime="2026-03-10"' in page


def test_the_column_sorts_both_ways_with_undated_deals_last(client, deals):
    def titles(sort):
        return [deal.title for deal in listed(client, sort=sort).context["page"].object_list]

    assert titles("close_date") == ["Won", "Open", "Lost", "Undated"]
    assert titles("-close_date") == ["Lost", "Open", "Won", "Undated"]


def test_the_export_types_it_as_a_date(client, deals):
    response = client.get(reverse("crm:deal_export"), {"format": "csv", "sort": "close_date"})
    header, first, *_rest = csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))
    assert dict(zip(header, first, strict=True))["Close date"] == "2026-03-10"
