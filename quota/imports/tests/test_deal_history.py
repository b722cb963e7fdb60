"""Importing a deal history (into = "deal_history"): stage changes with their dates fill the pipeline's history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from quota.crm.history_selectors import open_states_at
from quota.crm.models import Deal, DealStageChange, DealState
from quota.imports.engine import ImportOptions
from quota.imports.mapping import StepMapping
from quota.imports.services import import_file
from quota.testing.factories import UserFactory, default_pipeline

pytestmark = pytest.mark.django_db

HISTORY = StepMapping.from_dict(
    {
        "into": "deal_history",
        "fields": {
            "deal": "Opportunity ID",
            "changed_at": "Changed",
            "stage": "Stage",
            "status": {"column": "Outcome", "values": {"Won": "won", "Lost": "lost"}},
            "amount": "Amount",
            "expected_close_date": "Close Date",
        },
    }
)
HEADER = "Opportunity ID,Changed,Stage,Outcome,Amount,Close Date\n"


def _at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T09:00:00+00:00")


@pytest.fixture
def deal():
    """A deal imported without its history: recorded in its last stage since its creation, won on 2026-03-20."""
    from quota.crm.history import initial_states

    stages = list(default_pipeline().stages.order_by("position"))
    deal = Deal.objects.create(
        title="Laptops",
        owner=UserFactory(),
        pipeline=default_pipeline(),
        stage=stages[2],
        amount=Decimal("1200"),
        status="won",
        created_at=_at("2026-02-01"),
        closed_at=_at("2026-03-20"),
        expected_close_date=dt.date(2026, 3, 31),
        external_id="OPP-1",
    )
    DealStageChange.objects.create(deal=deal, to_stage=stages[2], to_status="open", changed_at=deal.created_at)
    DealStageChange.objects.create(
        deal=deal, from_stage=stages[2], to_stage=stages[2], from_status="open", to_status="won", changed_at=deal.closed_at
    )
    DealState.objects.bulk_create(initial_states(deal))
    return deal


def _import(tmp_path: Path, rows: str, **options) -> object:
    path = tmp_path / "history.csv"
    path.write_text(HEADER + rows)
    return import_file(path, mapping=HISTORY, options=ImportOptions(**options))


def test_a_history_file_rebuilds_the_changes_and_the_states(tmp_path, deal):
    stages = list(default_pipeline().stages.order_by("position"))
    rows = (
        f"OPP-1,2026-02-01T09:00:00+00:00,{stages[0].name},,1000,2026-04-30\n"
        f"OPP-1,2026-02-10T09:00:00+00:00,{stages[1].name},,1100,\n"
        f"OPP-1,2026-03-01T09:00:00+00:00,{stages[2].name},,,2026-03-31\n"
    )
    report = _import(tmp_path, rows)
    assert report.status == "committed", report.reason

    changes = list(
        DealStageChange.objects.filter(deal=deal).order_by("changed_at").values_list("from_stage", "to_stage", "to_status")
    )
    assert changes == [
        (None, stages[0].pk, "open"),  # the file's first row replaced the change recorded at the deal's creation
        (stages[0].pk, stages[1].pk, "open"),
        (stages[1].pk, stages[2].pk, "open"),
        (stages[2].pk, stages[2].pk, "won"),
    ]
    states = list(
        DealState.objects.filter(deal=deal)
        .order_by("valid_from")
        .values_list("valid_from", "valid_to", "stage", "status", "amount", "expected_close_date")
    )
    assert states == [
        (_at("2026-02-01"), _at("2026-02-10"), stages[0].pk, "open", Decimal("1000.00"), dt.date(2026, 4, 30)),
        (_at("2026-02-10"), _at("2026-03-01"), stages[1].pk, "open", Decimal("1100.00"), dt.date(2026, 4, 30)),
        (_at("2026-03-01"), _at("2026-03-20"), stages[2].pk, "open", Decimal("1100.00"), dt.date(2026, 3, 31)),
        # won as the deal is now: at its close, then at its amount now from the import (the file never said 1200)
        (_at("2026-03-20"), states[3][1], stages[2].pk, "won", Decimal("1100.00"), dt.date(2026, 3, 31)),
        (states[3][1], None, stages[2].pk, "won", Decimal("1200.00"), dt.date(2026, 3, 31)),
    ]
    director = UserFactory(role="director", team=None)
    assert open_states_at(_at("2026-02-15"), user=director).get().stage_id == stages[1].pk

    again = _import(tmp_path, rows)  # the same file again: the same history
    assert again.status == "committed", again.reason
    assert DealStageChange.objects.filter(deal=deal).count() == 4
    assert DealState.objects.filter(deal=deal).count() == 5


def test_bad_rows_say_what_is_wrong_and_nothing_is_written(tmp_path, deal):
    stages = list(default_pipeline().stages.order_by("position"))
    rows = (
        f"OPP-404,2026-02-10T09:00:00+00:00,{stages[0].name},,,\n"
        f"OPP-1,2026-01-10T09:00:00+00:00,{stages[0].name},,,\n"
        "OPP-1,2026-02-10T09:00:00+00:00,Nowhere,,,\n"
        "OPP-1,2026-02-11T09:00:00+00:00,,,,\n"
        f"OPP-1,,{stages[0].name},,,\n"
    )
    before = list(DealState.objects.values_list("pk", flat=True))
    report = _import(tmp_path, rows)
    assert report.status == "failed"
    messages = [example.message for group in report.problems.ordered() for example in group.examples]
    assert any("there is no deal 'OPP-404'" in m for m in messages), messages
    assert any("before the deal was created" in m for m in messages), messages
    assert any("there is no stage 'Nowhere'" in m for m in messages), messages
    assert any("needs a stage or a status" in m for m in messages), messages
    assert any("is required" in m for m in messages), messages
    assert list(DealState.objects.values_list("pk", flat=True)) == before
    assert DealStageChange.objects.filter(deal=deal).count() == 2


def test_a_row_with_only_an_outcome_keeps_the_stage_the_deal_was_in(tmp_path, deal):
    stages = list(default_pipeline().stages.order_by("position"))
    rows = f"OPP-1,2026-02-01T09:00:00+00:00,{stages[1].name},,,\nOPP-1,2026-03-05T09:00:00+00:00,,Lost,,\n"
    report = _import(tmp_path, rows)
    assert report.status == "committed", report.reason
    moved = DealStageChange.objects.filter(deal=deal).order_by("changed_at").values_list("to_stage", "to_status")
    assert list(moved)[:2] == [(stages[1].pk, "open"), (stages[1].pk, "lost")]
