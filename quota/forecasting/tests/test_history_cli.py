"""`quota forecast waterfall`'s logic: options in, the waterfall printed as a table or JSON."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
import time_machine
from django.core.management.base import CommandError

from quota.core.calendar import local_midnight
from quota.crm.services import deal_close_won, deal_create, deal_update
from quota.forecasting.history_cli import add_waterfall_parser, period_of, run_waterfall
from quota.testing.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def parse(*argv: str) -> dict:
    parser = argparse.ArgumentParser()
    add_waterfall_parser(parser.add_subparsers(dest="action"))
    return vars(parser.parse_args(["waterfall", *argv]))


@pytest.fixture
def quarter_story():
    """Q2 2026: Anna starts with 1000 and wins it; Bob gets a new 300 deal and moves a 200 one in from Q3."""
    team = TeamFactory(name="North")
    anna = UserFactory(username="anna", first_name="Anna", last_name="A", team=team)
    bob = UserFactory(username="bob", first_name="Bob", last_name="B", team=team)
    march = local_midnight(dt.date(2026, 3, 10))
    won = deal_create(
        by=None, title="Won", owner=anna, amount=Decimal("1000"), expected_close_date=dt.date(2026, 5, 1), created_at=march
    )
    later = deal_create(
        by=None, title="Later", owner=bob, amount=Decimal("200"), expected_close_date=dt.date(2026, 8, 1), created_at=march
    )
    deal_create(
        by=None,
        title="New",
        owner=bob,
        amount=Decimal("300"),
        expected_close_date=dt.date(2026, 6, 1),
        created_at=local_midnight(dt.date(2026, 4, 15)),
    )
    deal_close_won(deal=won, by=None, at=local_midnight(dt.date(2026, 5, 2)))
    with time_machine.travel(local_midnight(dt.date(2026, 5, 3)), tick=False):
        deal_update(deal=later, by=None, data={"expected_close_date": dt.date(2026, 6, 30)})
    return anna, bob


def test_the_json_waterfall_by_person_adds_up(quarter_story):
    out = io.StringIO()
    run_waterfall(parse("--from", "2026-04-01", "--to", "2026-06-30", "--period", "2026-Q2", "--format", "json"), out)
    data = json.loads(out.getvalue())
    rows = {row["label"]: row for row in data["rows"]}
    assert (rows["Anna A"]["start"], rows["Anna A"]["won"], rows["Anna A"]["end"]) == ("1000.00", "-1000.00", "0.00")
    assert (rows["Bob B"]["new"], rows["Bob B"]["moved_in"], rows["Bob B"]["end"]) == ("300.00", "200.00", "500.00")
    assert data["total"]["start"] == "1000.00" and data["total"]["end"] == "500.00"
    assert data["period"] == ["2026-04-01", "2026-06-30"]


def test_the_table_by_team_has_the_team_and_the_company(quarter_story):
    out = io.StringIO()
    run_waterfall(parse("--from", "2026-04-01", "--to", "2026-06-30", "--by", "team"), out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Pipeline expected to close 2026-04-01 to 2026-06-30")
    assert lines[2].split() == ["North", "1000.00", "300.00", "200.00", "0.00", "0.00", "-1000.00", "0.00", "0.00", "500.00"]
    assert lines[3].split()[0] == "company"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--from", "2026-06-30", "--to", "2026-04-01"), "is after --to"),
        (("--from", "April", "--to", "2026-04-01"), "takes a date"),
        (("--from", "2026-04-01", "--to", "2026-06-30", "--period", "2026-Q5"), "--period takes"),
        (("--from", "2026-04-01", "--to", "2026-06-30", "--by", "stage"), "--by must be"),
        (("--from", "2026-04-01", "--to", "2026-06-30", "--format", "xml"), "--format must be"),
        (("--from", "2026-04-01", "--to", "2026-06-30", "--as", "nobody"), "There is no user"),
    ],
)
def test_bad_options_are_refused_with_a_reason(argv, message):
    with pytest.raises(CommandError, match=message):
        run_waterfall(parse(*argv), io.StringIO())


def test_periods_by_name_or_around_the_first_day():
    day = dt.date(2026, 5, 17)
    assert period_of("quarter", day) == (dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    assert period_of("month", day) == (dt.date(2026, 5, 1), dt.date(2026, 5, 31))
    assert period_of("2026-q4", day) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert period_of("2024-02", day) == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))
