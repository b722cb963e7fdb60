"""Numbers in the four languages (grouping, decimal signs, currency and unit names), proper rounding, largest remainder."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quota.core.formatting import (
    DASH,
    _decimal,
    _pattern,
    active_locale,
    compact_money_text,
    count_text,
    decimal_text,
    duration_text,
    largest_remainder,
    money_text,
    percent_text,
)

NBSP = "\xa0"
LRM = "\u200e"  # Persian puts a left-to-right mark before the currency sign


@pytest.fixture(autouse=True)
def euros():
    with override_settings(QUOTA_CURRENCY="EUR"):
        yield


@pytest.mark.parametrize(
    ("language", "money", "cents", "count"),
    [
        ("en", "€2,862,309", "€504,134.05", "1,234,567"),
        ("pl", f"2{NBSP}862{NBSP}309{NBSP}€", f"504{NBSP}134,05{NBSP}€", f"1{NBSP}234{NBSP}567"),
        ("ru", f"2{NBSP}862{NBSP}309{NBSP}€", f"504{NBSP}134,05{NBSP}€", f"1{NBSP}234{NBSP}567"),
        ("fa", f"{LRM}€{NBSP}2,862,309", f"{LRM}€{NBSP}504,134.05", "1,234,567"),  # grouped, unlike Django's fa formats
    ],
)
def test_money_and_counts_are_grouped_the_way_each_language_groups(language, money, cents, count):
    with translation.override(language):
        assert money_text(Decimal("2862309.40")) == money
        assert money_text(Decimal("504134.05"), "EUR", cents=True) == cents
        assert count_text(1234567) == count


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    language=st.sampled_from(["en", "pl", "ru", "fa", "de", "ja", "hi"]),  # hi groups by 3, then 2
    currency=st.sampled_from(["EUR", "USD", "PLN", "RUB", "IRR", "JPY", "CHF"]),
    cents=st.booleans(),
    amount=st.decimals(min_value=-(10**15), max_value=10**15, allow_nan=False, allow_infinity=False, places=4)
    | st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)
    | st.integers(min_value=-(10**15), max_value=10**15),
)
def test_money_reads_as_babel_formats_it(language, currency, cents, amount):
    """money_text takes each pattern apart once (formatting._MoneyFormat); the text is Babel's own, to the character."""
    with translation.override(language):
        locale = active_locale()
        babel = _pattern(locale, "currency", 2 if cents else 0).apply(
            _decimal(amount), locale, currency=currency, currency_digits=False
        )
        assert money_text(amount, currency, cents=cents) == babel


@pytest.mark.parametrize(
    ("language", "hours", "days", "minutes"),
    [
        ("en", "5.0 hr", "54.3 days", "12.5 min"),
        ("pl", "5,0 godz.", "54,3 dnia", "12,5 min"),
        ("ru", "5,0 ч", "54,3 дн.", "12,5 мин"),
        ("fa", "5.0 ساعت", "54.3 روز", "12.5 دقیقه"),
    ],
)
def test_units_are_named_in_the_language(language, hours, days, minutes):
    with translation.override(language):
        assert duration_text(5, "hours") == hours
        assert duration_text(54.31, "days") == days
        assert duration_text(Decimal("12.5"), "minutes") == minutes


@pytest.mark.parametrize(
    ("language", "rate", "whole"),
    [("en", "12.3%", "14%"), ("pl", "12,3%", "14%"), ("ru", f"12,3{NBSP}%", f"14{NBSP}%"), ("fa", "12.3%", "14%")],
)
def test_percentages_follow_the_language(language, rate, whole):
    with translation.override(language):
        assert percent_text(0.12295) == rate
        assert percent_text(0.13999, 0) == whole  # 14.0 %, never cut down to 13


@pytest.mark.parametrize(
    ("fraction", "text"),
    [
        (0.12295, "12.3%"),  # rounded, where cutting it said 12.2
        (0.999, "99.9%"),
        (0.9996, "100.0%"),
        (0.99949, "99.9%"),
        (0.0005, "0.0%"),  # half to even
        (0.0015, "0.2%"),
        (-0.1234, "-12.3%"),
        (Decimal("0.5"), "50.0%"),
    ],
)
def test_percentages_are_rounded_not_truncated(fraction, text):
    with translation.override("en"):
        assert percent_text(fraction) == text


def test_decimals_and_counts_round():
    with translation.override("en"):
        assert count_text(177.0) == "177"
        assert count_text(176.6) == "177"
        assert decimal_text(42.55) == "42.6"
        assert decimal_text(-3.14159, 2) == "-3.14"


def test_undefined_is_a_dash_not_zero():
    assert {money_text(None), count_text(None), percent_text(None), duration_text(None, "days")} == {DASH}
    assert compact_money_text(None) == DASH


def test_the_compact_form_is_for_chart_axes():
    with translation.override("en"):
        assert compact_money_text(827_000) == "€827K"
    with translation.override("ru"):
        assert compact_money_text(827_000) == f"827{NBSP}тыс.{NBSP}€"


def test_an_unknown_language_falls_back_to_english():
    with translation.override("xx"):
        assert money_text(1000) == "€1,000"


def test_largest_remainder_examples():
    assert largest_remainder([1, 1, 1]) == [34, 33, 33]  # ties go to the earlier value
    assert largest_remainder([140, 285, 575]) == [14, 29, 57]  # 14.0, 28.5, 57.5: one point left, the tie to the first
    assert largest_remainder([0.04, 0.04, 0.92]) == [4, 4, 92]
    assert largest_remainder([10, None, -5, 30]) == [25, 0, 0, 75]
    assert largest_remainder([0, 0]) == [0, 0]
    assert largest_remainder([]) == []


NON_NEGATIVE = st.one_of(st.integers(min_value=0, max_value=10**12), st.floats(min_value=0, max_value=1e12))
POSITIVE = st.one_of(st.integers(min_value=1, max_value=10**12), st.floats(min_value=1e-9, max_value=1e12))


# Any non-negative values with a positive total: a list of them with one positive value put somewhere in it.
@settings(suppress_health_check=[HealthCheck.too_slow])  # the machine is shared; the inputs are small
@given(st.tuples(st.lists(NON_NEGATIVE, max_size=25), POSITIVE, st.integers(min_value=0, max_value=25)))
def test_largest_remainder_always_adds_up_to_100(drawn):
    rest, positive, at = drawn
    values = [*rest[:at], positive, *rest[at:]]
    shares = largest_remainder(values)
    assert sum(shares) == 100
    total = sum(float(v) for v in values)
    for value, share in zip(values, shares, strict=True):
        assert abs(share - float(value) * 100 / total) < 1 + 1e-9  # each within one point of its exact share
        assert share >= 0
