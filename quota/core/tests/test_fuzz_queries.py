"""Any query string on a list, export, autocomplete, API list, dashboard or targets page: never a 500.

Hypothesis draws the parameters those pages read (search, filters, sort, page, period, dates) with
values people and scripts send by mistake: NUL characters, huge numbers, impossible dates, dates at
the ends of the calendar, time zones, right-to-left text. The answer is the page or a 4xx.
"""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from quota.accounts.models import Role
from quota.testing.factories import CompanyFactory, DealFactory, UserFactory

pytestmark = pytest.mark.django_db

PAGES = [
    "/crm/deals/",
    "/crm/companies/",
    "/crm/leads/",
    "/crm/deals/export/",
    "/crm/companies/autocomplete/",
    "/sales/orders/",
    "/activities/",
    "/service/cases/",
    "/api/deals/",
    "/api/companies/",
    "/dashboards/targets/",
    "/dashboards/kpi/won_revenue/",
    "/",
]
NAMES = [
    "q",
    "search",
    "page",
    "sort",
    "ordering",
    "format",
    "title",
    "name",
    "owner",
    "company",
    "status",
    "min_amount",
    "max_amount",
    "closed_after",
    "closed_before",
    "expected_close_after",
    "created_after",
    "after",
    "period",
    "start",
    "end",
    "day",
    "team",
    "kpi",
    "by",
    "table",
]
VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["\x00", "a\x00b", "٣٤", "𝟘", "‮evil", "%00", "'; DROP TABLE x;--", " ", ""]),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["1e999999", "-1e999999", "NaN", "Infinity", "99999999999999999999", "-1", "0", "1.5"]),
    st.sampled_from(
        [
            "0000-00-00",
            "0001-01-01",
            "9999-12-31",
            "10000-01-01",
            "2026-02-30",
            "2026-13-01",
            "9999-12-31T23:59:59-14:00",
            "0001-01-01T00:00:00+14:00",
            "2026-03-01T10:00:00Z",
            "custom",
            "year",
            "this_month",
            "csv",
            "xlsx",
        ]
    ),
)


@pytest.fixture
def browser() -> Client:
    director = UserFactory(role=Role.DIRECTOR, team=None)
    CompanyFactory(name="Acme", owner=director)
    DealFactory(owner=director, title="Fuzzed deal")
    client = Client()
    client.force_login(director)
    return client


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(page=st.sampled_from(PAGES), params=st.lists(st.tuples(st.sampled_from(NAMES), VALUES), max_size=4))
def test_no_query_string_gives_a_server_error(browser, page, params):
    response = browser.get(page, params)
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)  # a streamed export must also finish
    event(f"{response.status_code}")
    assert response.status_code < 500, (page, params)
