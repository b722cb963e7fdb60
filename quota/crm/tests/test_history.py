"""The pipeline's history (crm.DealState): written by every deal service, tiling each deal's life."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone

from quota.crm.choices import DealStatus
from quota.crm.history import fill_states_from_stage_changes, initial_states, record_change
from quota.crm.models import Deal, DealStageChange, DealState
from quota.crm.services import deal_close_lost, deal_close_won, deal_create, deal_move_stage, deal_reopen, deal_update
from quota.testing.factories import DealFactory, UserFactory, default_pipeline, loss_reason

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


def _at(days: int) -> dt.datetime:
    return T0 + dt.timedelta(days=days)


def _states(deal: Deal) -> list[tuple]:
    return list(
        DealState.objects.filter(deal=deal)
        .order_by("valid_from")
        .values_list("valid_from", "valid_to", "stage__position", "status", "amount", "expected_close_date", "owner")
    )


def assert_tiles(deal: Deal) -> None:
    """One current state, each beginning where the one before ended, the first at the deal's creation."""
    rows = _states(deal)
    assert rows[0][0] == deal.created_at
    assert [r[1] for r in rows[:-1]] == [r[0] for r in rows[1:]]
    assert rows[-1][1] is None


def test_every_service_writes_the_state_it_leaves_the_deal_in():
    rep, other = UserFactory(), UserFactory()
    stages = list(default_pipeline().stages.order_by("position"))
    with time_machine.travel(_at(0), tick=False):
        deal = deal_create(by=None, title="Laptops", owner=rep, amount=Decimal("1000"), expected_close_date=dt.date(2026, 3, 31))
    deal_move_stage(deal=deal, stage=stages[1], by=None, at=_at(3))
    with time_machine.travel(_at(5), tick=False):
        deal_update(deal=deal, by=None, data={"amount": Decimal("1500"), "expected_close_date": dt.date(2026, 4, 30)})
        deal_update(deal=deal, by=None, data={"title": "Laptops x15"})  # not tracked: no state
    with time_machine.travel(_at(6), tick=False):
        deal_update(deal=deal, by=None, data={"owner": other})
    deal_close_won(deal=deal, by=None, at=_at(9), amount=Decimal("1400"))
    assert _states(deal) == [
        (_at(0), _at(3), 1, "open", Decimal("1000.00"), dt.date(2026, 3, 31), rep.pk),
        (_at(3), _at(5), 2, "open", Decimal("1000.00"), dt.date(2026, 3, 31), rep.pk),
        (_at(5), _at(6), 2, "open", Decimal("1500.00"), dt.date(2026, 4, 30), rep.pk),
        (_at(6), _at(9), 2, "open", Decimal("1500.00"), dt.date(2026, 4, 30), other.pk),
        (_at(9), None, 2, "won", Decimal("1400.00"), dt.date(2026, 4, 30), other.pk),
    ]


def test_a_lost_and_reopened_deal_keeps_its_whole_story():
    with time_machine.travel(_at(0), tick=False):
        deal = deal_create(by=None, title="Desks", owner=UserFactory(), amount=Decimal("800"))
    deal_close_lost(deal=deal, by=None, reason=loss_reason(), at=_at(4))
    deal_reopen(deal=deal, by=None, at=_at(7))
    assert [(r[0], r[3]) for r in _states(deal)] == [(_at(0), "open"), (_at(4), "lost"), (_at(7), "open")]
    assert_tiles(Deal.objects.get(pk=deal.pk))


def test_a_change_dated_before_the_current_state_never_runs_the_history_backwards():
    stages = list(default_pipeline().stages.order_by("position"))
    with time_machine.travel(_at(0), tick=False):
        deal = deal_create(by=None, title="Chairs", owner=UserFactory(), amount=Decimal("300"))
    deal_move_stage(deal=deal, stage=stages[1], by=None, at=_at(5))
    Deal.objects.filter(pk=deal.pk).update(stage=stages[2])
    record_change(deal, at=_at(2))  # before the move to stage 2 began: taken as that moment, replacing it
    assert [(r[0], r[1], r[2]) for r in _states(deal)] == [(_at(0), _at(5), 1), (_at(5), None, 3)]


def test_the_database_refuses_two_current_states_or_a_backward_interval():
    deal = DealFactory(created_at=_at(0))
    with pytest.raises(IntegrityError), transaction.atomic():
        DealState.objects.bulk_create(initial_states(deal))
    with pytest.raises(IntegrityError), transaction.atomic():
        DealState.objects.bulk_create([DealState(**{**_fields(deal), "valid_from": _at(3), "valid_to": _at(1)})])


def _fields(deal: Deal) -> dict:
    state = initial_states(deal)[0]
    return {f.attname: getattr(state, f.attname) for f in DealState._meta.concrete_fields if f.attname != "id"}


def test_a_deal_that_arrives_closed_was_open_until_its_close():
    deal = DealFactory(created_at=_at(0), status=DealStatus.WON, closed_at=_at(10), amount=Decimal("700"))
    assert [(r[0], r[1], r[3], r[4]) for r in _states(deal)] == [
        (_at(0), _at(10), "open", Decimal("700.00")),
        (_at(10), None, "won", Decimal("700.00")),
    ]
    unknown = initial_states(deal, amount_known_before_close=False)
    assert [s.amount for s in unknown] == [None, Decimal("700.00")]


def _reference_states(deal: Deal) -> list[tuple]:
    """What the history should be for a deal written without one, replayed in plain Python from its stage changes."""
    changes = sorted(DealStageChange.objects.filter(deal=deal), key=lambda c: (c.changed_at, c.pk))
    if not changes:
        closed = deal.status != DealStatus.OPEN and deal.closed_at > deal.created_at
        opening = (deal.created_at, deal.closed_at if closed else None, deal.stage_id, "open" if closed else deal.status)
        return [opening, (deal.closed_at, None, deal.stage_id, deal.status)] if closed else [opening]
    rows = []
    for i, change in enumerate(changes):
        until = changes[i + 1].changed_at if i + 1 < len(changes) else None
        begins = min(change.changed_at, deal.created_at) if i == 0 else change.changed_at
        if until is None or until > change.changed_at:
            rows.append((begins, until, change.to_stage_id, change.to_status))
    return rows


def test_deals_written_without_a_history_get_one_from_their_stage_changes():
    stages = list(default_pipeline().stages.order_by("position"))
    with time_machine.travel(_at(0), tick=False):
        moved = deal_create(by=None, title="Moved", owner=UserFactory(), amount=Decimal("100"))
        twice = deal_create(by=None, title="Two moves at one moment", owner=UserFactory())
    deal_move_stage(deal=moved, stage=stages[1], by=None, at=_at(2))
    deal_close_won(deal=moved, by=None, at=_at(4))
    deal_move_stage(deal=twice, stage=stages[1], by=None, at=_at(3))
    deal_move_stage(deal=twice, stage=stages[2], by=None, at=_at(3))
    bare_open = DealFactory(created_at=_at(1))
    bare_lost = DealFactory(created_at=_at(1), status=DealStatus.LOST, closed_at=_at(6), loss_reason=loss_reason())
    bare_at_once = DealFactory(created_at=_at(1), status=DealStatus.WON, closed_at=_at(1))
    deals = [moved, twice, bare_open, bare_lost, bare_at_once]
    DealStageChange.objects.filter(deal__in=[bare_open, bare_lost, bare_at_once]).delete()
    kept = DealState.objects.get(deal=bare_open)
    DealState.objects.exclude(deal=bare_open).delete()

    fill_states_from_stage_changes()

    for deal in deals:
        deal.refresh_from_db()
        got = list(
            DealState.objects.filter(deal=deal).order_by("valid_from").values_list("valid_from", "valid_to", "stage", "status")
        )
        assert got == _reference_states(deal), deal.title
        assert_tiles(deal)
    assert DealState.objects.get(deal=bare_open).pk == kept.pk  # a deal that had its history keeps it
    assert timezone.is_aware(DealState.objects.first().valid_from)
