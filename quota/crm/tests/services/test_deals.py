import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from quota.accounts.models import Role
from quota.crm.models import Deal, DealStageChange
from quota.crm.services import (
    deal_close_lost,
    deal_close_won,
    deal_create,
    deal_move_stage,
    deal_reopen,
    deal_update,
)
from quota.testing.factories import DealFactory, UserFactory, default_pipeline, loss_reason

pytestmark = pytest.mark.django_db


def test_deal_create_records_first_stage_and_uses_default_pipeline():
    rep = UserFactory()
    deal = deal_create(by=rep, title="Laptops", owner=rep, amount=Decimal("2500"))
    assert deal.pipeline == default_pipeline()
    assert deal.stage.position == 1
    change = DealStageChange.objects.get(deal=deal)
    assert change.from_stage is None and change.to_stage == deal.stage and change.changed_by == rep


def test_negative_amount_is_rejected_with_a_clear_message():
    rep = UserFactory()
    with pytest.raises(ValidationError) as error:
        deal_create(by=rep, title="Oops", owner=rep, amount=Decimal("-1"))
    assert "cannot be negative" in str(error.value.message_dict["amount"])
    assert not Deal.objects.exists()


def test_negative_amount_is_also_refused_by_the_database():
    deal = DealFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Deal.objects.filter(pk=deal.pk).update(amount=Decimal("-5"))


def test_lost_deal_without_a_reason_is_rejected_and_stays_open():
    deal = DealFactory()
    with pytest.raises(ValidationError) as error:
        deal_close_lost(deal=deal, by=deal.owner, reason=None)
    assert "why" in str(error.value.message_dict["loss_reason"])
    deal.refresh_from_db()
    assert deal.status == "open" and deal.closed_at is None


def test_close_date_before_creation_is_rejected():
    deal = DealFactory(created_at=timezone.now() - dt.timedelta(days=2))
    with pytest.raises(ValidationError) as error:
        deal_close_won(deal=deal, by=deal.owner, at=deal.created_at - dt.timedelta(days=1))
    assert "before it was created" in str(error.value)
    deal.refresh_from_db()
    assert deal.status == "open"


def test_close_date_before_creation_is_also_refused_by_the_database():
    deal = DealFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Deal.objects.filter(pk=deal.pk).update(status="won", closed_at=deal.created_at - dt.timedelta(days=1))


def test_rep_cannot_edit_someone_elses_deal():
    team_mate_deal = DealFactory()
    other_rep = UserFactory(team=team_mate_deal.owner.team)
    with pytest.raises(PermissionDenied):
        deal_update(deal=team_mate_deal, by=other_rep, data={"amount": Decimal("1")})
    with pytest.raises(PermissionDenied):
        deal_close_won(deal=team_mate_deal, by=other_rep)
    team_mate_deal.refresh_from_db()
    assert team_mate_deal.amount == Decimal("1000.00") and team_mate_deal.status == "open"


def test_manager_can_edit_team_deal_but_not_another_teams():
    deal = DealFactory()
    manager = UserFactory(role=Role.MANAGER, team=deal.owner.team)
    outsider = UserFactory(role=Role.MANAGER)
    deal_update(deal=deal, by=manager, data={"amount": Decimal("1500")})
    assert Deal.objects.get(pk=deal.pk).amount == Decimal("1500")
    with pytest.raises(PermissionDenied):
        deal_update(deal=deal, by=outsider, data={"amount": Decimal("1")})


def test_stage_moves_and_outcomes_are_recorded_in_order():
    rep = UserFactory()
    deal = deal_create(by=rep, title="Servers", owner=rep, created_at=timezone.now() - dt.timedelta(days=10))
    stages = list(deal.pipeline.stages.order_by("position"))
    deal_move_stage(deal=deal, stage=stages[1], by=deal.owner, at=timezone.now() - dt.timedelta(days=5))
    deal_move_stage(deal=deal, stage=stages[2], by=deal.owner, at=timezone.now() - dt.timedelta(days=3))
    deal_close_lost(deal=deal, by=deal.owner, reason=loss_reason("No budget"), at=timezone.now() - dt.timedelta(days=1))
    deal_reopen(deal=deal, by=deal.owner)
    won = deal_close_won(deal=deal, by=deal.owner)
    history = list(DealStageChange.objects.filter(deal=deal).values_list("to_stage__position", "from_status", "to_status"))
    assert history == [
        (1, "", "open"),
        (2, "open", "open"),
        (3, "open", "open"),
        (3, "open", "lost"),
        (3, "lost", "open"),
        (3, "open", "won"),
    ]
    assert won.loss_reason is None and won.closed_at is not None


def test_stage_of_another_pipeline_is_rejected():
    from quota.crm.models import Pipeline, Stage

    other = Pipeline.objects.create(name="Renewals")
    foreign = Stage.objects.create(pipeline=other, name="Renewal talk", position=1, probability=50)
    deal = DealFactory()
    with pytest.raises(ValidationError):
        deal_move_stage(deal=deal, stage=foreign, by=deal.owner)


def test_closed_deal_cannot_move_or_close_again():
    deal = DealFactory()
    deal_close_won(deal=deal, by=deal.owner)
    with pytest.raises(ValidationError):
        deal_close_won(deal=deal, by=deal.owner)
    with pytest.raises(ValidationError):
        deal_move_stage(deal=deal, stage=deal.pipeline.stages.last(), by=deal.owner)


def test_rep_cannot_hand_a_new_deal_to_another_team():
    rep = UserFactory()
    outsider = UserFactory()
    with pytest.raises(PermissionDenied):
        deal_create(by=rep, title="Not mine", owner=outsider)


def test_update_only_saves_changed_fields_and_rejects_stage_changes():
    deal = DealFactory()
    with pytest.raises(ValidationError):
        deal_update(deal=deal, by=deal.owner, data={"status": "won"})
    updated = deal_update(deal=deal, by=deal.owner, data={"title": "Renamed", "amount": deal.amount})
    assert updated.title == "Renamed"


def test_foreign_currency_needs_an_exchange_rate_and_keeps_it():
    from quota.core.models import ExchangeRate

    rep = UserFactory()
    with pytest.raises(ValidationError) as error:
        deal_create(by=rep, title="Export", owner=rep, amount=Decimal("100"), currency="USD")
    assert "No exchange rate for USD" in str(error.value)
    ExchangeRate.objects.create(currency="USD", valid_from=dt.date(2000, 1, 1), rate=Decimal("0.9"))
    deal = deal_create(by=rep, title="Export", owner=rep, amount=Decimal("100"), currency="USD")
    assert deal.exchange_rate == Decimal("0.9")
