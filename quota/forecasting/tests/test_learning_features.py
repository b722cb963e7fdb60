"""The features of a deal at a moment are what was known then: nothing that happened later reaches back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from quota.accounts.models import Role
from quota.crm.choices import DealStatus
from quota.crm.history import initial_states
from quota.crm.models import CustomField, DealState, Stage
from quota.crm.services import deal_close_lost, deal_close_won, deal_move_stage, deal_update
from quota.forecasting.learning.features import MAX_MOMENTS_PER_DEAL, NUMERIC, features, scoring_moments, seconds
from quota.testing.clock import clock_at
from quota.testing.factories import (
    CallFactory,
    CompanyFactory,
    DealFactory,
    MeetingFactory,
    TaskFactory,
    UserFactory,
    default_pipeline,
    lead_source,
    loss_reason,
)

pytestmark = pytest.mark.django_db

T = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
column = {name: i for i, name in enumerate(NUMERIC)}


def stage(position: int) -> Stage:
    return Stage.objects.get(pipeline=default_pipeline(), position=position)


def at(days: float) -> dt.datetime:
    """`days` days from T (negative: before it)."""
    return T + dt.timedelta(days=days)


@pytest.fixture
def world():
    """Before T: an owner with a won and a lost deal, a customer with a won deal, and two open deals with activity."""
    director = UserFactory(role=Role.DIRECTOR)
    rep = UserFactory()
    customer = CompanyFactory(owner=rep)
    CustomField.objects.create(target="deal", key="product", label="Product", field_type="text")
    with clock_at(at(-200)):
        earlier_won = DealFactory(owner=rep, company=customer, created_at=at(-200))
        earlier_lost = DealFactory(owner=rep, created_at=at(-190))
        deal_close_won(deal=earlier_won, by=director, at=at(-150))
        deal_close_lost(deal=earlier_lost, by=director, reason=loss_reason(), at=at(-120))
        watched = DealFactory(
            owner=rep, company=customer, created_at=at(-60), amount=Decimal("5000"), source=lead_source("referral")
        )
        other = DealFactory(owner=rep, created_at=at(-40), custom={"product": "GTX Pro"})
        deal_move_stage(deal=watched, stage=stage(2), by=director, at=at(-20))
        deal_update(deal=watched, by=director, data={"expected_close_date": dt.date(2025, 7, 15)})
    for days in (-3, -10, -25, -45):
        CallFactory(deal=watched, owner=rep, occurred_at=at(days))
    TaskFactory(deal=watched, owner=rep, occurred_at=at(-2))  # a task due: not something done
    return {"director": director, "rep": rep, "watched": watched, "other": other, "customer": customer}


def test_features_read_the_state_and_activity_at_the_moment(world):
    got = features([world["watched"].pk], [seconds(T)])
    row = got.numeric[0]
    assert got.categorical[0].tolist() == [str(stage(2).pk), "referral", "(none)", "3"]  # June: a quarter's third month
    assert got.stage_probability[0] == stage(2).probability / 100
    assert row[column["age_days"]] == pytest.approx(np.log1p(60))
    assert row[column["days_in_stage"]] == pytest.approx(np.log1p(20))
    assert row[column["amount"]] == pytest.approx(np.log1p(5000))
    assert row[column["amount_unknown"]] == 0
    assert row[column["existing_customer"]] == 1
    # The rep closed one won and one lost deal before T; prior = (1 + 1) / (2 + 2) = 0.5 from the company's record.
    assert row[column["owner_win_rate"]] == pytest.approx((1 + 10 * 0.5) / (2 + 10))
    assert row[column["activities_14d"]] == pytest.approx(np.log1p(2))  # the task is left out
    assert row[column["activities_30d"]] == pytest.approx(np.log1p(3))
    assert row[column["days_to_expected_close"]] == pytest.approx(44)
    assert features([world["other"].pk], [seconds(T)]).categorical[0, 2] == "GTX Pro"


def test_nothing_after_the_moment_changes_the_features(world):
    """The leakage test: everything that happens after T leaves the features at T as they were."""
    before = features([world["watched"].pk, world["other"].pk], [seconds(T)] * 2)
    director, rep, watched, other = world["director"], world["rep"], world["watched"], world["other"]
    with clock_at(at(5)):
        deal_update(deal=watched, by=director, data={"amount": Decimal("90000"), "expected_close_date": dt.date(2025, 6, 20)})
        deal_update(deal=other, by=director, data={"owner": UserFactory(), "source": lead_source("website")})
    deal_move_stage(deal=watched, stage=stage(3), by=director, at=at(6))
    CallFactory(deal=watched, owner=rep, occurred_at=at(1))
    MeetingFactory(deal=other, owner=rep, occurred_at=at(0))  # at the moment itself: not before it
    deal_close_won(deal=watched, by=director, at=at(10))
    deal_close_lost(deal=other, by=director, reason=loss_reason(), at=at(12))
    for days in (2, 3):  # other deals of the same owner and company close after T
        late = DealFactory(owner=rep, company=world["customer"], created_at=at(-30))
        deal_close_won(deal=late, by=director, at=at(days))
    after = features([watched.pk, other.pk], [seconds(T)] * 2)
    assert np.array_equal(after.numeric, before.numeric)
    assert after.categorical.tolist()[0] == before.categorical.tolist()[0]
    assert np.array_equal(after.stage_probability, before.stage_probability)


def test_an_amount_known_only_at_close_is_missing_while_open():
    owner = UserFactory()
    deal = DealFactory.build(
        owner=owner,
        company=CompanyFactory(owner=owner),
        created_at=at(-30),
        status=DealStatus.LOST,
        closed_at=at(10),
        loss_reason=loss_reason(),
        amount=Decimal("0"),
    )
    deal.save()
    DealState.objects.bulk_create(initial_states(deal, amount_known_before_close=False))
    row = features([deal.pk], [seconds(T)]).numeric[0]
    assert row[column["amount_unknown"]] == 1
    assert row[column["amount"]] == 0


def test_scoring_moments_are_month_starts_inside_the_open_life_capped_and_seeded():
    ids = np.array([1, 2, 3])
    created = np.array([seconds(dt.datetime(2025, 1, 15, tzinfo=dt.UTC))] * 3)
    closed = np.array(
        [
            seconds(dt.datetime(2025, 3, 10, tzinfo=dt.UTC)),  # open at 1 Feb and 1 Mar
            seconds(dt.datetime(2025, 1, 20, tzinfo=dt.UTC)),  # at no month start: one moment inside
            seconds(dt.datetime(2026, 12, 1, tzinfo=dt.UTC)),  # at 22 month starts: capped
        ]
    )
    deal, moment = scoring_moments(ids, created, closed)
    assert moment[deal == 1].tolist() == [seconds(dt.datetime(2025, m, 1, tzinfo=dt.UTC)) for m in (2, 3)]
    assert len(moment[deal == 2]) == 1 and created[1] <= moment[deal == 2][0] < closed[1]
    assert len(moment[deal == 3]) == MAX_MOMENTS_PER_DEAL
    assert ((created[2] < moment[deal == 3]) & (moment[deal == 3] < closed[2])).all()
    # The same deal gets the same moments whatever other deals there are.
    _, alone_moment = scoring_moments(ids[2:], created[2:], closed[2:])
    assert alone_moment.tolist() == moment[deal == 3].tolist()
