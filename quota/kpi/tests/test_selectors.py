"""Progress against many targets in few queries; team targets as the sum of their members'; loss-making customers."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from quota.accounts.models import Team
from quota.crm.models import Stage
from quota.forecasting.targets import target_progress
from quota.kpi.models import Metric, Target, TargetPeriod, TeamTarget
from quota.kpi.selectors import loss_making_customers
from quota.kpi.targets import Status
from quota.testing.factories import CompanyFactory, DealFactory, OrderFactory, UserFactory, default_pipeline

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2024, 3, 16, 12, tzinfo=dt.UTC)  # about half of March gone


def won(owner, day, amount):
    moment = dt.datetime(2024, 3, day, 10, tzinfo=dt.UTC)
    DealFactory(owner=owner, amount=Decimal(amount), status="won", created_at=moment, closed_at=moment)


def target(key, value, *, start=dt.date(2024, 3, 1), end=dt.date(2024, 3, 31), period=TargetPeriod.MONTH, **scope):
    metric = Metric.objects.get(key=key, is_current=True)
    return Target.objects.create(metric=metric, start=start, end=end, period=period, value=value, **scope)


@pytest.fixture
def team():
    north = Team.objects.create(name="North")
    anna, ben = UserFactory(team=north), UserFactory(team=north)
    won(anna, 2, "600")
    won(anna, 9, "600")
    won(ben, 3, "100")
    return north, anna, ben


def test_each_target_gets_actual_attainment_pace_status_and_forecast(team):
    north, anna, ben = team
    targets = [
        target("won_revenue", Decimal(2000), user=anna),
        target("won_revenue", Decimal(1000), user=ben),
        target("won_revenue", None, team=north, team_target=TeamTarget.MEMBERS),
        target("won_revenue", Decimal(5000)),
        target("win_rate", Decimal("0.5"), user=anna),
        target(
            "sales_cycle_days",
            Decimal(10),
            start=dt.date(2024, 1, 1),
            end=dt.date(2024, 3, 31),
            period=TargetPeriod.QUARTER,
            user=anna,
        ),
    ]
    expected = DealFactory(
        owner=anna,
        amount=Decimal(1000),
        stage=Stage.objects.get(pipeline=default_pipeline(), position=3),
        expected_close_date=dt.date(2024, 3, 28),
        created_at=dt.datetime(2024, 3, 1, tzinfo=dt.UTC),
    )
    progress = {(p.target.metric.key, p.target.scope, p.target.user_id): p for p in target_progress(targets, user=None, now=NOW)}

    mine = progress[("won_revenue", "person", anna.pk)].progress
    assert mine.actual == 1200 and mine.attainment == pytest.approx(0.6)
    # Won revenue is forecast as won + the weighted pipeline expected in the period (as the forecast card), not a run rate.
    weighted = 1000 * expected.stage.probability / 100
    assert mine.forecast == pytest.approx(1200 + weighted) and mine.status == Status.BEHIND
    assert progress[("won_revenue", "person", ben.pk)].progress.status == Status.BEHIND
    summed = progress[("won_revenue", "team", None)]
    assert summed.value == 3000 and summed.progress.actual == 1300
    assert progress[("won_revenue", "company", None)].progress.actual == 1300
    rate = progress[("win_rate", "person", anna.pk)].progress
    assert rate.actual == 1.0 and rate.pace is None and rate.status == Status.AHEAD
    cycle = progress[("sales_cycle_days", "person", anna.pk)].progress
    assert cycle.actual == 0 and cycle.status == Status.AHEAD  # lower is better: 0 days against 10


def test_queries_do_not_grow_with_targets_people_or_periods(team):
    north, anna, ben = team

    def count(targets):
        with CaptureQueriesContext(connection) as captured:
            target_progress(targets, user=None, now=NOW)
        return len(captured.captured_queries)

    few = [
        target("won_revenue", Decimal(100), user=anna),
        target("won_revenue", None, team=north, team_target=TeamTarget.MEMBERS),
    ]
    many = [*few, target("won_revenue", Decimal(100), user=ben)]
    many += [target("won_deals", Decimal(3), user=person) for person in (anna, ben, *[UserFactory(team=north) for _ in range(5)])]
    many += [
        target("won_revenue", Decimal(9), start=dt.date(2024, m, 1), end=dt.date(2024, m, 28), period=TargetPeriod.CUSTOM)
        for m in (1, 2)
    ]
    assert count(many) == count(few) + 2  # the company scope: its rollup check and its one grouped query


def test_a_rep_sees_progress_only_on_what_they_may_see(team):
    anna = team[1]
    outsider = UserFactory(team=Team.objects.create(name="South"))
    company = target("won_revenue", Decimal(5000))
    assert target_progress([company], user=outsider, now=NOW)[0].progress.actual == 0
    assert target_progress([company], user=anna, now=NOW)[0].progress.actual == 1300


def test_loss_making_customers_are_listed_worst_first():
    rep = UserFactory()
    good, bad, worse = CompanyFactory(name="Good"), CompanyFactory(name="Bad"), CompanyFactory(name="Worse")
    moment = dt.datetime(2024, 3, 5, tzinfo=dt.UTC)
    OrderFactory(owner=rep, company=good, amount=Decimal(1000), cost=Decimal(700), ordered_at=moment)
    OrderFactory(owner=rep, company=bad, amount=Decimal(1000), cost=Decimal(1100), ordered_at=moment)
    OrderFactory(owner=rep, company=bad, amount=Decimal(500), cost=Decimal(450), ordered_at=moment)
    OrderFactory(owner=rep, company=worse, amount=Decimal(100), cost=Decimal(400), ordered_at=moment, exchange_rate=Decimal(2))
    OrderFactory(owner=rep, company=worse, amount=Decimal(0), cost=Decimal(9000), ordered_at=moment, status="cancelled")
    found = loss_making_customers(user=None, start=dt.date(2024, 3, 1), end=dt.date(2024, 3, 31))
    assert [(c.name, c.profit) for c in found] == [("Worse", -600), ("Bad", -50)]
