"""The seeded pipeline history (crm.DealState): every deal's life tiled from its creation, as its stage changes and
its revisions (close dates pushed out, amounts revised) made it, ending as the deal is now."""

import datetime as dt
from collections import defaultdict
from itertools import pairwise

import numpy as np
import pytest
from django.db.models import Count

from quota.crm.history import TRACKED
from quota.crm.models import Deal, DealStageChange, DealState
from quota.crm.services import deal_update
from quota.seed.columns import NULL_DAY, NULL_TIME
from quota.seed.deals import LOST, OPEN, WON, Deals
from quota.seed.history import revised_states
from quota.seed.revisions import NO_AMOUNT, Revisions

pytestmark = pytest.mark.django_db


def _values(record) -> tuple:
    return tuple(getattr(record, name) for name in TRACKED)


def _histories() -> dict[int, list[DealState]]:
    states = defaultdict(list)
    for state in DealState.objects.order_by("deal_id", "valid_from"):
        states[state.deal_id].append(state)
    return states


def test_each_deal_is_tiled_from_its_creation_to_one_current_state_that_is_the_deal_now(seeded):
    states = _histories()
    deals = list(Deal.objects.all())
    assert set(states) == {deal.pk for deal in deals}
    for deal in deals:
        rows = states[deal.pk]
        assert rows[0].valid_from == deal.created_at
        assert [r.valid_to for r in rows[:-1]] == [r.valid_from for r in rows[1:]]
        assert all(r.valid_from < r.valid_to for r in rows[:-1]) and rows[-1].valid_to is None
        assert _values(rows[-1]) == _values(deal)
        assert all(_values(before) != _values(after) for before, after in pairwise(rows)), "each state is a change"
        if deal.status != "open":  # nothing changed after the close, and the deal was open until then
            assert rows[-1].valid_from == deal.closed_at and {r.status for r in rows[:-1]} == {"open"}


def test_stage_and_status_change_exactly_at_the_stage_changes(seeded):
    states = _histories()
    moments = defaultdict(list)
    for change in DealStageChange.objects.order_by("deal_id", "changed_at", "id"):
        moments[change.deal_id].append(change)
    for deal_id, rows in states.items():
        changes = moments[deal_id]
        # The last change at each moment stands (the moves, then the close), from that moment.
        last_at = {change.changed_at: change for change in changes}
        for at, change in last_at.items():
            state = next(r for r in rows if r.valid_from <= at and (r.valid_to is None or at < r.valid_to))
            assert (state.stage_id, state.status) == (change.to_stage_id, change.to_status)
        for before, after in pairwise(rows):
            if (before.stage_id, before.status) != (after.stage_id, after.status):
                assert after.valid_from in last_at


def test_close_dates_were_pushed_out_and_amounts_revised_while_deals_were_open(seeded):
    states = _histories()
    deals = {deal.pk: deal for deal in Deal.objects.all()}
    pushes, revisions = defaultdict(int), defaultdict(int)
    ups = downs = 0
    for deal_id, rows in states.items():
        for before, after in pairwise(rows):
            if after.expected_close_date != before.expected_close_date:
                assert after.expected_close_date > before.expected_close_date, "pushed out, never pulled in"
                assert before.status == after.status == "open"
                pushes[deal_id] += 1
            if after.amount != before.amount:
                assert before.status == after.status == "open"
                revisions[deal_id] += 1
                ups, downs = ups + (after.amount > before.amount), downs + (after.amount < before.amount)
    assert 0.15 <= len(pushes) / len(deals) <= 0.4
    assert any(count >= 2 for count in pushes.values()), "some more than once"
    assert {deals[deal_id].status for deal_id in pushes} == {"open", "won", "lost"}
    assert 0.1 <= len(revisions) / len(deals) <= 0.3 and ups and downs
    assert any(count >= 2 for count in revisions.values())


def test_a_seeded_deal_changed_later_goes_on_with_its_history(seeded):
    deal = Deal.objects.filter(status="open").annotate(kept=Count("states")).filter(kept__gte=3).first()
    before = list(DealState.objects.filter(deal=deal).order_by("valid_from"))
    deal_update(deal=deal, by=None, data={"expected_close_date": deal.expected_close_date + dt.timedelta(days=30)})
    after = list(DealState.objects.filter(deal=deal).order_by("valid_from"))
    assert len(after) == len(before) + 1 and after[-2].valid_to == after[-1].valid_from
    assert after[-1].expected_close_date == deal.expected_close_date and after[-1].valid_to is None


# ----------------------------------------------------------------------------- merging, on hand-made deals


def _deals(stage_at: list[list[int]], status: list[int], closed: list[int]) -> Deals:
    n = len(status)
    matrix = np.array([[NULL_TIME if t is None else t for t in row] for row in stage_at], dtype=np.int64)
    reached = (matrix != NULL_TIME).sum(axis=1) - 1
    zeros = np.zeros(n, dtype=np.int64)
    return Deals(
        created=matrix[:, 0],
        closed=np.array(closed, dtype=np.int64),
        status=np.array(status),
        stage_at=matrix,
        stage=reached,
        seller=zeros,
        company=zeros,
        contact=zeros,
        source=zeros,
        lead=zeros,
        estimate=zeros,
        expected_close=zeros,
        loss_reason=zeros,
        loss_note=zeros,
        topic=zeros,
        won_back_from=zeros,
    )


def test_revisions_and_stage_changes_merge_in_time_the_last_change_of_a_moment_standing():
    deals = _deals(
        stage_at=[[0, 100, None], [50, 60, 60], [10, None, None]],
        status=[WON, OPEN, LOST],
        closed=[300, NULL_TIME, 40],
    )
    revisions = Revisions(  # deal 0: pushed at its move (100) and revised at 200; deal 1: pushed at 70
        deal=np.array([0, 0, 0, 1, 1]),
        at=np.array([0, 100, 200, 50, 70]),
        expected_close=np.array([20_000, 20_010, NULL_DAY, 20_000, 20_030]),
        amount=np.array([500_00, NO_AMOUNT, 700_00, 900_00, NO_AMOUNT]),
    )
    states = revised_states(deals, revisions, 0, 3)
    rows = list(
        zip(
            *(getattr(states, name).tolist() for name in ("deal", "valid_from", "valid_to", "stage", "status")),
            states.expected_close.tolist(),
            states.amount.tolist(),
            strict=True,
        )
    )
    assert rows == [
        (0, 0, 100, 0, OPEN, 20_000, 500_00),
        (0, 100, 200, 1, OPEN, 20_010, 500_00),
        (0, 200, 300, 1, OPEN, 20_010, 700_00),
        (0, 300, NULL_TIME, 1, WON, 20_010, 700_00),
        (1, 50, 60, 0, OPEN, 20_000, 900_00),
        (1, 60, 70, 2, OPEN, 20_000, 900_00),  # two moves at one moment: the later stands
        (1, 70, NULL_TIME, 2, OPEN, 20_030, 900_00),
    ]  # deal 2 was never revised: the database fill writes its states
