"""Overdue and stale deals: one definition (crm.selectors) that the list filter and the flags share."""

import datetime as dt

import pytest

from quota.activities.models import ActivityKind
from quota.crm.models import Deal
from quota.crm.selectors import overdue_deals, stale_deals, with_hygiene_flags
from quota.crm.services import deal_close_won, deal_move_stage
from quota.testing.clock import clock_at
from quota.testing.factories import CallFactory, DealFactory, default_pipeline

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 5, 13, 10, tzinfo=dt.UTC)
LONG_AGO = NOW - dt.timedelta(days=45)


@pytest.fixture(autouse=True)
def pinned_clock():
    with clock_at(NOW, tick=False):
        yield


def titles(deals):
    return set(deals.values_list("title", flat=True))


def test_overdue_is_open_with_an_expected_close_before_today():
    DealFactory(title="Yesterday", expected_close_date=dt.date(2026, 5, 12))
    DealFactory(title="Today", expected_close_date=dt.date(2026, 5, 13))
    DealFactory(title="No date")
    won = DealFactory(title="Won late", expected_close_date=dt.date(2026, 1, 1))
    deal_close_won(deal=won, by=None, at=NOW)
    assert titles(overdue_deals(Deal.objects.all())) == {"Yesterday"}


def test_stale_is_open_without_a_move_or_activity_for_thirty_days():
    DealFactory(title="Forgotten", created_at=LONG_AGO)
    DealFactory(title="New", created_at=NOW - dt.timedelta(days=3))
    called = DealFactory(title="Called", created_at=LONG_AGO)
    CallFactory(deal=called, owner=called.owner, occurred_at=NOW - dt.timedelta(days=2))
    planned = DealFactory(title="Only a task planned", created_at=LONG_AGO)
    CallFactory(deal=planned, owner=planned.owner, kind=ActivityKind.TASK, direction="", answered=None, occurred_at=NOW)
    moved = DealFactory(title="Moved", created_at=LONG_AGO)
    deal_move_stage(deal=moved, stage=default_pipeline().stages.order_by("position")[1], by=None, at=NOW - dt.timedelta(days=1))
    closed = DealFactory(title="Closed", created_at=LONG_AGO)
    deal_close_won(deal=closed, by=None, at=LONG_AGO)
    assert titles(stale_deals(Deal.objects.all())) == {"Forgotten", "Only a task planned"}


def test_the_stale_days_are_a_setting(settings):
    DealFactory(title="Quiet a week", created_at=NOW - dt.timedelta(days=8))
    assert titles(stale_deals(Deal.objects.all())) == set()
    settings.CRM_STALE_DEAL_DAYS = 7
    assert titles(stale_deals(Deal.objects.all())) == {"Quiet a week"}


def test_flags_are_read_in_the_same_query(django_assert_num_queries):
    DealFactory(title="Both", created_at=LONG_AGO, expected_close_date=dt.date(2026, 4, 30))
    DealFactory(title="Fine", expected_close_date=dt.date(2026, 6, 30))
    with django_assert_num_queries(1):
        flags = {d.title: (d.is_overdue, d.is_stale, d.hygiene_flags) for d in with_hygiene_flags(Deal.objects.all())}
    assert flags == {"Both": (True, True, "Overdue, Stale"), "Fine": (False, False, "")}
