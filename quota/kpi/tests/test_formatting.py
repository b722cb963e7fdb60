"""KPI values by unit: one format for pages, reports and the CLI; changes in points for rates and scores; shares."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import translation

from quota.kpi.definitions import Unit
from quota.kpi.formatting import DASH, as_json, as_text, cell_text, change_text, share_text, shares


@pytest.fixture(autouse=True)
def english_euros():
    with override_settings(QUOTA_CURRENCY="EUR"), translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (Decimal("135597.49"), Unit.MONEY, "€135,597"),  # whole units, one format on every page and report
        (0.12295, Unit.PERCENT, "12.3%"),
        (177.0, Unit.COUNT, "177"),  # a count has no decimals
        (Decimal("12"), Unit.COUNT, "12"),
        (54.31, Unit.DAYS, "54.3 days"),
        (5, Unit.HOURS, "5.0 hr"),
        (30.04, Unit.MINUTES, "30.0 min"),
        (42.55, Unit.SCORE, "42.6"),
        (None, Unit.MONEY, DASH),  # CAC with no customer won: undefined, not 0
        (None, Unit.COUNT, DASH),
    ],
)
def test_as_text(value, unit, text):
    assert as_text(value, unit) == text


def test_as_text_follows_the_language():
    with translation.override("pl"):
        assert as_text(5, Unit.HOURS) == "5,0 godz."
        assert as_text(Decimal("1234.5"), Unit.MONEY) == "1\xa0234\xa0€"  # 1234.5 rounds half to even


def test_as_json_keeps_numbers_and_undefined_is_null():
    assert as_json(Decimal("504134.054"), Unit.MONEY) == 504134.05
    assert as_json(Decimal("3"), Unit.COUNT) == 3
    assert as_json(None, Unit.MONEY) is None


@pytest.mark.parametrize(
    ("value", "previous", "unit", "text"),
    [
        (100, 0, Unit.SCORE, "+100.0 pts"),  # NPS moves in points, never "+100.0 %" from 0
        (30, 42.5, Unit.SCORE, "−12.5 pts"),
        (0.30, 0.25, Unit.PERCENT, "+5.0 pp"),
        (150, 100, Unit.MONEY, "+50.0%"),
        (90, 120, Unit.COUNT, "−25.0%"),
        (1200, 0, Unit.MONEY, "+€1,200"),  # no relative change from 0
    ],
)
def test_change_text(value, previous, unit, text):
    assert change_text(value, previous, unit) == text


def test_shares_add_up_to_100_and_round_properly():
    parts = shares([140, 285, 575])  # 14.0 %, 28.5 %, 57.5 %
    assert parts == [0.14, 0.29, 0.57] and sum(parts) == pytest.approx(1)
    assert [share_text(p) for p in parts] == ["14%", "29%", "57%"]
    thirds = shares([1, 1, 1])
    assert sum(round(p * 100) for p in thirds) == 100
    assert shares([0, 0]) == [None, None]  # no share of nothing


def test_share_text():
    assert share_text(0.625) == "62%"  # half to even
    assert share_text(0.635) == "64%"
    assert share_text(1.2345) == "123%"
    assert share_text(None) == DASH


def test_cell_text():
    assert cell_text(None, Unit.MONEY) == DASH
    assert cell_text(None, None) == ""
    assert cell_text(Decimal("1000"), Unit.MONEY) == "€1,000"
    assert cell_text(dt.date(2026, 3, 1), None) == "03/01/2026"
    assert cell_text("North", None) == "North"
