"""Warnings from the forecast: a won revenue target with little chance, a person's pipeline too thin; once each."""

import datetime as dt
from decimal import Decimal

import pytest
from scipy import stats

from quota.crm.models import Stage
from quota.notifications.checks import forecast_warnings
from quota.notifications.models import Notification, NotificationKind
from quota.notifications.services import early_warnings_check
from quota.notifications.tests.helpers import march_target
from quota.reports.tests.helpers import won
from quota.testing.factories import DealFactory, default_pipeline

EARLY_MARCH = dt.datetime(2025, 3, 4, 12, tzinfo=dt.UTC)  # too early for a pace warning: the forecast speaks already


def expected_in_march(owner, amount: str, count: int = 1) -> None:
    stage = Stage.objects.get(pipeline=default_pipeline(), position=3)
    for _ in range(count):
        DealFactory(
            owner=owner,
            amount=Decimal(amount),
            stage=stage,
            expected_close_date=dt.date(2025, 3, 28),
            created_at=dt.datetime(2025, 2, 1, tzinfo=dt.UTC),
        )


@pytest.fixture
def march(people):
    won(people.rep_north, "Won early", "1000", "2025-02-01", "2025-03-02")
    return people


def test_a_target_the_pipeline_cannot_reach_tells_the_rep_and_manager_once(march, django_capture_on_commit_callbacks):
    expected_in_march(march.rep_north, "500", count=4)  # 1,000 won + at most 2,000: a 10,000 target is out of reach
    target = march_target("won_revenue", "10000", user=march.rep_north)
    with django_capture_on_commit_callbacks(execute=True):
        sent = early_warnings_check(now=EARLY_MARCH)
    assert sent["targets_unlikely"] == 2 and sent["pipelines_thin"] == 2 and sent["targets_behind"] == 0
    notes = Notification.objects.filter(kind=NotificationKind.TARGET_UNLIKELY).order_by("user__username")
    assert [n.user for n in notes] == [march.rep_north, march.manager_north]
    assert {n.dedupe_key for n in notes} == {f"target-unlikely:{target.pk}:2025-03-01:2025-03-31"}
    assert "a 0 % chance of reaching" in notes[0].body
    thin = Notification.objects.filter(kind=NotificationKind.PIPELINE_THIN).first()
    assert thin is not None and "a coverage of 0.2 times" in thin.body  # 2,000 against 9,000 still to win
    again = early_warnings_check(now=EARLY_MARCH + dt.timedelta(days=5))
    assert again["targets_unlikely"] == 0 and again["pipelines_thin"] == 0  # once per target and period


def test_a_likely_target_with_plenty_of_pipeline_is_quiet(march):
    expected_in_march(march.rep_north, "1000", count=30)
    march_target("won_revenue", "3000", user=march.rep_north)
    assert forecast_warnings(now=EARLY_MARCH) == []


def test_the_chance_is_the_forecasts_and_the_threshold_a_setting(march, settings):
    expected_in_march(march.rep_north, "1000", count=10)
    march_target("won_revenue", "6000", user=march.rep_north)  # 1,000 won: 5 of the 10 deals must be won
    chance = Stage.objects.get(pipeline=default_pipeline(), position=3).probability / 100
    exact = stats.binom(10, chance).sf(4)
    settings.NOTIFICATIONS_COVERAGE_RATIO = 0  # the chance alone
    settings.NOTIFICATIONS_REACH_THRESHOLD = exact + 0.05
    [warning] = forecast_warnings(now=EARLY_MARCH)
    assert warning.unlikely and not warning.thin
    assert warning.row.reach == pytest.approx(exact, abs=0.02)
    settings.NOTIFICATIONS_REACH_THRESHOLD = exact - 0.05
    assert forecast_warnings(now=EARLY_MARCH) == []


def test_a_team_target_tells_its_managers_and_thin_pipelines_are_for_people(march, django_capture_on_commit_callbacks):
    march_target("won_revenue", "50000", team=march.north)
    with django_capture_on_commit_callbacks(execute=True):
        sent = early_warnings_check(now=EARLY_MARCH)
    assert sent["targets_unlikely"] == 1 and sent["pipelines_thin"] == 0
    assert [n.user for n in Notification.objects.all()] == [march.manager_north]


def test_other_kpis_targets_and_finished_periods_are_not_forecast(march):
    march_target("won_deals", 50, user=march.rep_north)
    march_target("won_revenue", "10000", user=march.rep_north)
    assert forecast_warnings(now=dt.datetime(2025, 4, 2, tzinfo=dt.UTC)) == []
    assert [w.target.metric.key for w in forecast_warnings(now=EARLY_MARCH)] == ["won_revenue"]
