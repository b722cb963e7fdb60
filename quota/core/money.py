"""Money: amounts are Decimals with an ISO 4217 currency; KPIs report in the company currency.

A record in another currency keeps the exchange rate of its own date (`exchange_rate`,
company currency per unit), so totals are `Sum(amount * exchange_rate)` in one query and
a later rate change does not rewrite history.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

# The currencies a small or mid-sized company in our four languages' markets meets most.
CURRENCIES = [
    ("EUR", "EUR"),
    ("USD", "USD"),
    ("GBP", "GBP"),
    ("PLN", "PLN"),
    ("RUB", "RUB"),
    ("IRR", "IRR"),
    ("CHF", "CHF"),
    ("CZK", "CZK"),
    ("SEK", "SEK"),
    ("NOK", "NOK"),
    ("DKK", "DKK"),
    ("UAH", "UAH"),
    ("TRY", "TRY"),
    ("AED", "AED"),
    ("CAD", "CAD"),
    ("AUD", "AUD"),
    ("JPY", "JPY"),
    ("CNY", "CNY"),
]
MONEY_DIGITS = 16
MONEY_PLACES = 2


def company_currency() -> str:
    return str(settings.QUOTA_CURRENCY)


def money_field(verbose_name: Any, **kwargs: Any) -> models.DecimalField:
    kwargs.setdefault("default", Decimal("0"))
    return models.DecimalField(
        verbose_name,
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        **kwargs,
    )


def currency_field() -> models.CharField:
    return models.CharField("currency", max_length=3, choices=CURRENCIES, default=company_currency)


def rate_field() -> models.DecimalField:
    return models.DecimalField(
        "exchange rate",
        max_digits=18,
        decimal_places=8,
        default=Decimal("1"),
        help_text="Company currency per unit of the record's currency, on the record's date.",
    )


def rate_on(currency: str, day: dt.date) -> Decimal:
    """The exchange rate into the company currency valid on `day`."""
    if currency == company_currency():
        return Decimal("1")
    from quota.core.models import ExchangeRate

    rate = (
        ExchangeRate.objects.filter(currency=currency, valid_from__lte=day)
        .order_by("-valid_from")
        .values_list("rate", flat=True)
        .first()
    )
    if rate is None:
        raise ValidationError(
            {"currency": f"No exchange rate for {currency} on {day.isoformat()}; add one under Exchange rates first."}
        )
    return rate


# The type a money expression is computed in (an amount times its rate), wide enough for any sum of them.
MONEY_OUTPUT = models.DecimalField(max_digits=30, decimal_places=10)


def in_company_currency(amount: str, rate: str = "exchange_rate") -> models.Expression:
    """A money field in the company currency, in SQL: the amount times the record's own exchange rate."""
    return models.ExpressionWrapper(models.F(amount) * models.F(rate), output_field=MONEY_OUTPUT)
