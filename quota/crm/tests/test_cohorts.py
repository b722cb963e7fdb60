"""The cohort retention table (repeat purchase) and the customers page: counted in the database, within the walls."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import override_settings
from openpyxl import load_workbook

from quota.crm.cohorts import cohort_retention, lifecycle_counts
from quota.testing.factories import CompanyFactory, DealFactory

pytestmark = pytest.mark.django_db

WARSAW = ZoneInfo("Europe/Warsaw")
URL = "/crm/customers/"
EXPORT = "/crm/customers/export/"


def won(company, owner, day: dt.date, hour: int = 12):
    at = dt.datetime(day.year, day.month, day.day, hour, tzinfo=WARSAW)
    return DealFactory(company=company, owner=owner, status="won", closed_at=at, created_at=at - dt.timedelta(days=2))


@pytest.fixture
def book(people):
    """North's three customers from January 2024 and one from February; South's one from January.

    January: a buys again in February and April, b in March, c never; February: d buys again in March.
    South's e (January) buys in February too. A purchase at 00:30 Warsaw on 1 March counts for March.
    """
    rep, south = people["rep"], people["south_rep"]
    a, b, c, d = (CompanyFactory(owner=rep) for _ in range(4))
    e = CompanyFactory(owner=south)
    won(a, rep, dt.date(2024, 1, 10))
    won(a, rep, dt.date(2024, 1, 20))  # the same month again: still the first month
    won(a, rep, dt.date(2024, 2, 5))
    won(a, rep, dt.date(2024, 4, 5))
    won(b, rep, dt.date(2024, 1, 31))
    won(b, rep, dt.date(2024, 3, 1), hour=0)
    won(c, rep, dt.date(2024, 1, 15))
    won(d, rep, dt.date(2024, 2, 10))
    won(d, rep, dt.date(2024, 3, 10))
    won(e, south, dt.date(2024, 1, 3))
    won(e, south, dt.date(2024, 2, 3))
    return people


@override_settings(TIME_ZONE="Europe/Warsaw")
def test_cohorts_count_each_customer_once_per_month_after_the_first(book, django_assert_num_queries):
    with django_assert_num_queries(1):
        table = cohort_retention(None, first=dt.date(2024, 1, 1), last=dt.date(2024, 4, 30))
    assert table.months == 4
    january, february = table.rows
    assert (january.month, january.size, january.buyers) == (dt.date(2024, 1, 1), 4, (4, 2, 1, 1))
    assert january.shares == (1.0, 0.5, 0.25, 0.25)
    # February's cohort has had three months by April: the fourth column has not begun.
    assert (february.month, february.size, february.buyers) == (dt.date(2024, 2, 1), 1, (1, 1, 0, None))


@override_settings(TIME_ZONE="Europe/Warsaw")
def test_a_rep_counts_only_the_deals_within_their_walls(book):
    table = cohort_retention(book["south_rep"], first=dt.date(2024, 1, 1), last=dt.date(2024, 4, 30))
    assert [(row.month, row.size, row.buyers) for row in table.rows] == [(dt.date(2024, 1, 1), 1, (1, 1, 0, 0))]
    north = cohort_retention(book["rep"], first=dt.date(2024, 1, 1), last=dt.date(2024, 4, 30))
    assert [row.size for row in north.rows] == [3, 1]


@override_settings(TIME_ZONE="Europe/Warsaw")
def test_cohorts_before_the_range_are_left_out(book):
    table = cohort_retention(None, first=dt.date(2024, 2, 1), last=dt.date(2024, 3, 31))
    assert [(row.month, row.buyers) for row in table.rows] == [(dt.date(2024, 2, 1), (1, 1))]


def test_lifecycle_counts_follow_the_walls(people):
    CompanyFactory(owner=people["rep"], customer_since=dt.date(2024, 1, 1))
    CompanyFactory(owner=people["rep"])
    CompanyFactory(owner=people["south_rep"], customer_since=dt.date(2024, 1, 1), churned_on=dt.date(2024, 2, 1))
    assert lifecycle_counts(people["rep"]) == {"prospect": 1, "customer": 1, "churned": 0}
    assert lifecycle_counts(people["director"]) == {"prospect": 1, "customer": 1, "churned": 1}


# --------------------------------------------------------------------------- the page and its export


@override_settings(TIME_ZONE="Europe/Warsaw")
def test_the_page_shows_the_cohorts_a_rep_may_see(client, book):
    client.force_login(book["south_rep"])
    with time_machine.travel(dt.datetime(2024, 4, 15, 12, tzinfo=dt.UTC), tick=False):
        response = client.get(URL, {"first": "2024-01", "last": "2024-04"})
    content = response.content.decode()
    assert response.status_code == 200
    assert "Cohort retention (repeat purchase)" in content and "first won deal" in content
    assert "<td>100 %</td><td>100 %</td><td>0 %</td><td>0 %</td>" in content.replace("\xa0", " ")
    assert content.count('<th scope="row">') == 1  # North's cohorts are not South's to see


@override_settings(TIME_ZONE="Europe/Warsaw")
def test_the_page_defaults_to_the_last_twelve_months(client, book):
    client.force_login(book["director"])
    with time_machine.travel(dt.datetime(2024, 12, 15, 12, tzinfo=dt.UTC), tick=False):
        response = client.get(URL)
    assert response.status_code == 200
    assert response.context["table"].first == dt.date(2024, 1, 1)
    assert response.context["table"].last == dt.date(2024, 12, 1)


@pytest.mark.parametrize(
    "query", [{"first": "2024-13"}, {"first": "2024-05", "last": "2024-01"}, {"first": "2020-01", "last": "2024-01"}]
)
def test_bad_months_are_refused_with_a_reason(client, people, query):
    client.force_login(people["rep"])
    response = client.get(URL, query)
    assert response.status_code == 400
    assert client.get(EXPORT, {**query, "format": "csv"}).status_code == 400


@override_settings(TIME_ZONE="Europe/Warsaw")
def test_the_export_holds_the_table_in_both_formats(client, book):
    client.force_login(book["director"])
    query = {"first": "2024-01", "last": "2024-03"}
    response = client.get(EXPORT, {**query, "format": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["First purchase", "Customers", "Month 0", "Month 1", "Month 2"]
    assert rows[1] == ["2024-01-01", "4", "1.0", "0.5", "0.25"]
    assert rows[2] == ["2024-02-01", "1", "1.0", "1.0", ""]
    response = client.get(EXPORT, {**query, "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    header = values.index(["First purchase", "Customers", "Month 0", "Month 1", "Month 2"])
    assert values[header + 1][1:] == [4, 1, 0.5, 0.25]
    assert client.get(EXPORT, {**query, "format": "pdf"}).status_code == 400
