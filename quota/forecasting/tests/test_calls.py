"""Forecast calls: who may call for whom, every call kept, the system's daily record, the history and the accuracy."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from quota.accounts.models import Role, Team
from quota.core import periodic
from quota.crm.models import Stage
from quota.forecasting.calls import (
    call_history,
    ended_periods,
    forecast_accuracy,
    forecast_call_make,
    forecast_calls_record,
    latest_calls,
    period_of,
)
from quota.forecasting.models import CallMethod, ForecastCall
from quota.forecasting.ranges import forecast_ranges
from quota.forecasting.selectors import revenue_forecast
from quota.kpi.periods import Every
from quota.testing.clock import clock_at
from quota.testing.factories import DealFactory, UserFactory, default_pipeline

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 5, 13, 10, 0, tzinfo=dt.UTC)
MAY = (dt.date(2026, 5, 1), dt.date(2026, 5, 31))
Q2 = (dt.date(2026, 4, 1), dt.date(2026, 6, 30))
APRIL = (dt.date(2026, 4, 1), dt.date(2026, 4, 30))
MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


@pytest.fixture
def world():
    company = Team.objects.create(name="Company")
    north = Team.objects.create(name="North", parent=company)
    north_east = Team.objects.create(name="North-East", parent=north)
    south = Team.objects.create(name="South", parent=company)
    return {
        "north": north,
        "north_east": north_east,
        "south": south,
        "director": UserFactory(role=Role.DIRECTOR, team=company),
        "admin": UserFactory(role=Role.ADMIN),
        "manager": UserFactory(role=Role.MANAGER, team=north),
        "ann": UserFactory(role=Role.REP, team=north, first_name="Ann", last_name=""),
        "bob": UserFactory(role=Role.REP, team=north, first_name="Bob", last_name=""),
        "eve": UserFactory(role=Role.REP, team=north_east, first_name="Eve", last_name=""),
        "sven": UserFactory(role=Role.REP, team=south, first_name="Sven", last_name=""),
        "viewer": UserFactory(role=Role.VIEWER, team=north),
        "marketer": UserFactory(role=Role.MARKETING),
    }


def call(by, amount="1000", *, period=MAY, now=NOW, **scope):
    with clock_at(now, tick=False):
        return forecast_call_make(by=by, start=period[0], end=period[1], amount=amount, now=now, **scope)


# --------------------------------------------------------------------------- who may call for whom


def test_a_rep_commits_their_own_number_and_nobody_elses(world):
    ann = world["ann"]
    made = call(ann, "12500.50", user=ann)
    assert (made.method, made.made_by, made.amount, made.day) == (CallMethod.COMMIT, ann, Decimal("12500.50"), NOW.date())
    for scope in ({"user": world["bob"]}, {"team": world["north"]}, {}):
        with pytest.raises(PermissionDenied, match="for yourself"):
            call(ann, **scope)
    assert ForecastCall.objects.count() == 1


def test_a_manager_calls_for_their_team_tree_and_its_people_only(world):
    manager = world["manager"]
    for scope in ({"user": world["ann"]}, {"user": world["eve"]}, {"team": world["north"]}, {"team": world["north_east"]}):
        assert call(manager, **scope).method == CallMethod.ADJUSTED
    assert call(manager, user=manager).method == CallMethod.COMMIT  # a manager who sells commits their own number too
    for scope in ({"user": world["sven"]}, {"team": world["south"]}, {}):
        with pytest.raises(PermissionDenied, match="a manager also for their own team"):
            call(manager, **scope)
    assert ForecastCall.objects.count() == 5


@pytest.mark.parametrize("who", ["director", "admin"])
def test_directors_and_administrators_call_for_anyone_any_team_and_the_company(world, who):
    by = world[who]
    for scope in ({"user": world["sven"]}, {"team": world["south"]}, {}):
        assert call(by, **scope).method == CallMethod.ADJUSTED
    company = ForecastCall.objects.get(user=None, team=None)
    assert company.made_by == by


@pytest.mark.parametrize("who", ["viewer", "marketer"])
def test_viewers_and_marketing_make_no_call(world, who):
    with pytest.raises(PermissionDenied, match="Only sales reps, managers, directors and administrators"):
        call(world[who], user=world[who])
    assert not ForecastCall.objects.exists()


# --------------------------------------------------------------------------- every call kept, bad input refused


def test_every_call_is_kept_and_the_latest_of_each_method_stands(world):
    ann, manager = world["ann"], world["manager"]
    first = call(ann, "10000", user=ann, now=NOW)
    second = call(ann, "14000", user=ann, now=NOW + dt.timedelta(hours=2))
    adjusted = call(manager, "11000", user=ann, now=NOW + dt.timedelta(hours=1))
    call(ann, "9000", user=ann, period=Q2)  # another period: not this month's
    assert ForecastCall.objects.filter(user=ann).count() == 4
    first.refresh_from_db()
    assert first.amount == Decimal("10000.00")  # not overwritten
    latest = latest_calls(start=MAY[0], end=MAY[1], people=[ann.pk])
    assert latest.of_person(ann.pk) == {CallMethod.COMMIT: second, CallMethod.ADJUSTED: adjusted}


def test_a_teams_row_sums_its_peoples_latest_commits(world):
    ann, bob, eve = world["ann"], world["bob"], world["eve"]
    call(ann, "100", user=ann, now=NOW)
    call(ann, "300", user=ann, now=NOW + dt.timedelta(minutes=5))
    call(bob, "50", user=bob)
    call(eve, "999", user=eve)  # North-East's, not North's own people
    latest = latest_calls(start=MAY[0], end=MAY[1], member_teams=[world["north"].pk])
    assert latest.commits_of_members(world["north"].pk) == (Decimal("350.00"), 2)


@pytest.mark.parametrize(
    ("amount", "period", "message"),
    [
        ("-5", MAY, "cannot be negative"),
        ("lots", MAY, "must be a number"),
        ("", MAY, "must be a number"),
        ("NaN", MAY, "must be a number"),
        ("1000", APRIL, "This period is over"),
        ("1000", (dt.date(2026, 5, 1), dt.date(2026, 5, 15)), "whole month or a whole quarter"),
        ("1000", (dt.date(2026, 5, 2), dt.date(2026, 6, 1)), "whole month or a whole quarter"),
        ("1000", (dt.date(2026, 5, 1), dt.date(2026, 7, 31)), "whole month or a whole quarter"),
        ("1" + "0" * 15, MAY, "digits"),
    ],
)
def test_bad_input_is_refused_clearly_and_changes_nothing(world, amount, period, message):
    ann = world["ann"]
    with pytest.raises(ValidationError, match=message):
        call(ann, amount, user=ann, period=period)
    assert not ForecastCall.objects.exists()


def test_a_person_and_a_team_at_once_is_refused(world):
    with pytest.raises(ValidationError, match="not for a person and a team"):
        call(world["director"], user=world["ann"], team=world["north"])


def test_a_coming_period_may_be_called_and_periods_are_months_or_quarters():
    assert period_of(*MAY) == Every.MONTH and period_of(*Q2) == Every.QUARTER
    assert period_of(dt.date(2026, 1, 1), dt.date(2026, 12, 31)) is None
    assert ended_periods(Every.QUARTER, NOW.date(), 2) == [
        (dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        (dt.date(2025, 10, 1), dt.date(2025, 12, 31)),
    ]


def test_a_coming_month_may_be_committed(world):
    june = (dt.date(2026, 6, 1), dt.date(2026, 6, 30))
    assert call(world["ann"], user=world["ann"], period=june).start == june[0]


# --------------------------------------------------------------------------- the system's daily record


@pytest.fixture
def pipeline(world):
    """Open deals expected this month for Ann and Sven, revenue Ann won this month, and none of Bob's (who commits)."""
    with clock_at(NOW):
        stage = Stage.objects.get(pipeline=default_pipeline(), position=3)
        created = at(dt.date(2026, 4, 20))
        DealFactory(
            owner=world["ann"], amount=Decimal("3000"), status="won", created_at=created, closed_at=at(dt.date(2026, 5, 4))
        )
        for owner, amount in ((world["ann"], "1000"), (world["ann"], "2500"), (world["sven"], "4000")):
            DealFactory(
                owner=owner, amount=Decimal(amount), stage=stage, expected_close_date=dt.date(2026, 5, 25), created_at=created
            )
    return world


def test_the_daily_record_writes_the_model_p50_and_the_weighted_forecast_once_per_day(pipeline):
    world = pipeline
    call(world["bob"], "700", user=world["bob"])
    with clock_at(NOW, tick=False):
        recorded = forecast_calls_record(now=NOW)
        again = forecast_calls_record(now=NOW + dt.timedelta(hours=5))
        ranges = forecast_ranges(user=None, start=MAY[0], end=MAY[1], by="person")
        weighted = revenue_forecast(user=None, start=MAY[0], end=MAY[1], by="person")
        company = forecast_ranges(user=None, start=MAY[0], end=MAY[1]).rows[0]
    assert recorded > 0 and again == 0
    system = ForecastCall.objects.filter(method__in=[CallMethod.MODEL, CallMethod.WEIGHTED])
    assert system.count() == recorded
    ann = world["ann"].pk
    month = system.filter(start=MAY[0], end=MAY[1])
    model = month.get(user_id=ann, method=CallMethod.MODEL)
    assert float(model.amount) == pytest.approx(ranges.for_group(ann).p50, abs=0.01)
    assert float(month.get(user_id=ann, method=CallMethod.WEIGHTED).amount) == pytest.approx(
        weighted.for_group(ann).total, abs=0.01
    )
    assert (model.made_by, model.day) == (None, NOW.date())
    assert float(month.get(user=None, team=None, method=CallMethod.MODEL).amount) == pytest.approx(company.p50, abs=0.01)
    assert month.filter(team=world["north"]).count() == 2 and month.filter(team=world["south"]).count() == 2
    assert month.get(user=world["bob"], method=CallMethod.MODEL).amount == 0  # he called: the model said nothing for him
    # The quarter under way too (Bob called only for the month: no record of him for the quarter).
    assert system.filter(start=Q2[0], end=Q2[1]).count() == month.count() - 2
    tomorrow = NOW + dt.timedelta(days=1)
    with clock_at(tomorrow, tick=False):
        assert forecast_calls_record(now=tomorrow) == recorded  # a new day: a new record, the old one kept
    assert system.count() == 2 * recorded


def test_the_record_is_made_on_the_companys_day(pipeline, settings):
    settings.TIME_ZONE = "Pacific/Auckland"  # UTC+12 in May: 13 May 20:00 UTC is 14 May there
    late = dt.datetime(2026, 5, 13, 20, 0, tzinfo=dt.UTC)
    with clock_at(late, tick=False):
        forecast_calls_record(now=late)
        assert forecast_calls_record(now=late + dt.timedelta(hours=3)) == 0
    assert set(ForecastCall.objects.values_list("day", flat=True)) == {dt.date(2026, 5, 14)}


def test_the_record_is_declared_for_beat_and_the_embedded_scheduler_runs_it_daily(pipeline, settings):
    entry = settings.CELERY_BEAT_SCHEDULE["forecasting-record-calls"]
    settings.CELERY_BEAT_SCHEDULE = {"forecasting-record-calls": entry}
    first = dt.datetime(2026, 5, 13, 0, 10, tzinfo=dt.UTC)
    ran = []
    for moment in (first, first + dt.timedelta(hours=12), first + dt.timedelta(days=1), first + dt.timedelta(days=1, hours=1)):
        with clock_at(moment, tick=False):
            ran.append([(item.name, item.failed) for item in periodic.run_due(now=moment)])
    assert ran == [[("forecasting-record-calls", False)], [], [("forecasting-record-calls", False)], []]
    assert set(ForecastCall.objects.values_list("day", flat=True)) == {dt.date(2026, 5, 13), dt.date(2026, 5, 14)}


# --------------------------------------------------------------------------- history


def test_the_history_carries_each_call_until_the_next_and_adds_up_the_revenue_won(pipeline):
    world = pipeline
    ann = world["ann"]
    call(ann, "5000", user=ann, now=at(dt.date(2026, 5, 2)))
    call(ann, "6000", user=ann, now=at(dt.date(2026, 5, 5), 9))
    call(ann, "6500", user=ann, now=at(dt.date(2026, 5, 5), 15))  # the day's last stands for the day
    call(world["manager"], "5500", user=ann, now=at(dt.date(2026, 5, 4)))
    with clock_at(NOW, tick=False):
        history = call_history(viewer=world["director"], start=MAY[0], end=MAY[1], today=NOW.date(), user_id=ann.pk)
    assert len(history.days) == 13 and history.days[-1] == NOW.date()
    assert history.values[CallMethod.COMMIT][:6] == [None, 5000, 5000, 5000, 6500, 6500]
    assert history.values[CallMethod.ADJUSTED][2:4] == [None, 5500]
    assert CallMethod.MODEL not in history.values
    assert history.won[:5] == [0, 0, 0, 3000, 3000] and history.won[-1] == 3000


# --------------------------------------------------------------------------- accuracy


@pytest.fixture
def past(world):
    """March and April, hand-computed: what each person, team and the company won, and the calls made for them."""
    ann, bob, sven, manager, director = world["ann"], world["bob"], world["sven"], world["manager"], world["director"]
    won = [(ann, "4000", dt.date(2026, 3, 20)), (ann, "6000", dt.date(2026, 4, 8)), (ann, "4000", dt.date(2026, 4, 28))]
    won += [(sven, "5000", dt.date(2026, 4, 15))]
    for owner, amount, day in won:
        DealFactory(owner=owner, amount=Decimal(amount), status="won", created_at=at(dt.date(2026, 2, 1)), closed_at=at(day))
    # April: Ann won 10,000, North (Ann and Bob) 10,000, the company 15,000; March: Ann 4,000.
    call(ann, "8000", user=ann, period=APRIL, now=at(dt.date(2026, 4, 5)))  # -20 %
    call(ann, "12000", user=ann, period=APRIL, now=at(dt.date(2026, 4, 20)))  # +20 %
    call(ann, "5000", user=ann, period=MARCH, now=at(dt.date(2026, 3, 10)))  # +25 %
    call(ann, "7777", user=ann, period=APRIL, now=at(dt.date(2026, 3, 25)))  # made before April: not measured
    call(manager, "9000", user=ann, period=APRIL, now=at(dt.date(2026, 4, 10)))  # -10 %
    call(bob, "5000", user=bob, period=APRIL, now=at(dt.date(2026, 4, 10)))  # Bob won nothing: no share to take
    call(director, "15000", team=world["north"], period=APRIL, now=at(dt.date(2026, 4, 12)))  # +50 %
    call(director, "12000", period=APRIL, now=at(dt.date(2026, 4, 12)))  # the company: -20 %
    for day, amount in ((dt.date(2026, 4, 2), "11000"), (dt.date(2026, 4, 3), "10500")):  # the model: +10 %, +5 %
        ForecastCall.objects.create(
            user=ann, start=APRIL[0], end=APRIL[1], amount=Decimal(amount), method=CallMethod.MODEL, made_at=at(day), day=day
        )
    return world


def _row(accuracy, label):
    return next(row for row in accuracy.rows if row.label == label)


def test_accuracy_matches_the_hand_computed_errors(past):
    world = past
    with clock_at(NOW):
        people = forecast_accuracy(user=world["director"], periods=[APRIL, MARCH], by="person")
        teams = forecast_accuracy(user=world["director"], periods=[APRIL], by="team")
    ann = _row(people, "Ann").methods
    assert ann[CallMethod.COMMIT].calls == 3
    assert ann[CallMethod.COMMIT].mape == pytest.approx((0.2 + 0.2 + 0.25) / 3)
    assert ann[CallMethod.COMMIT].bias == pytest.approx(0.25 / 3)
    assert (ann[CallMethod.ADJUSTED].mape, ann[CallMethod.ADJUSTED].bias) == pytest.approx((0.1, -0.1))
    assert (ann[CallMethod.MODEL].calls, ann[CallMethod.MODEL].mape, ann[CallMethod.MODEL].bias) == pytest.approx(
        (2, 0.075, 0.075)
    )
    assert not any(row.label == "Bob" for row in people.rows)
    company = _row(people, "Company").methods[CallMethod.ADJUSTED]
    assert (company.calls, company.mape, company.bias) == pytest.approx((1, 0.2, -0.2))
    north = _row(teams, "North").methods[CallMethod.ADJUSTED]
    assert (north.mape, north.bias) == pytest.approx((0.5, 0.5))


def test_a_manager_measures_their_own_people_and_no_company(past):
    with clock_at(NOW):
        accuracy = forecast_accuracy(user=past["manager"], periods=[APRIL], by="person")
    assert [row.label for row in accuracy.rows] == ["Ann"]


def test_accuracy_queries_do_not_grow_with_the_calls(past):
    def count() -> int:
        with clock_at(NOW), CaptureQueriesContext(connection) as captured:
            forecast_accuracy(user=past["director"], periods=[APRIL, MARCH], by="person")
        return len(captured.captured_queries)

    before = count()
    for day in range(1, 29):
        call(past["ann"], str(9000 + day), user=past["ann"], period=APRIL, now=at(dt.date(2026, 4, day)))
    assert count() == before
