"""Numbers as people read them, in the active language: the one place that formats money, counts, rates and durations.

Everything goes through Babel's CLDR data for the language Django has activated, so digit grouping,
decimal signs, the place of the currency sign and the names of units follow the locale (Persian
groups its digits too; Polish says "5,0 godz."). Rounding is proper rounding (half to even, on the
decimal value), never truncation: 0.12295 is "12.3%", 0.9996 is "100.0%".

One money format per locale everywhere: the locale's currency pattern, in whole units for KPI values
(cents are noise in a total) and with the currency's own decimals for a record's amount. The compact
form (€827K) is for chart axes only. An undefined value (a rate with nothing to divide) is a dash.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import (
    NumberPattern,
    format_compact_currency,
    format_decimal,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
)
from babel.units import format_unit
from django.utils.translation import get_language, to_locale

from quota.core.money import company_currency

DASH = "–"  # an undefined value: not 0, not blank
FALLBACK_LOCALE = "en"

Number = int | float | Decimal

# Babel's unit names for the durations KPIs are measured in.
DURATION_UNITS = {"days": "duration-day", "hours": "duration-hour", "minutes": "duration-minute"}

ONE_DECIMAL = "#,##0.0"
WHOLE = "#,##0"


@lru_cache(maxsize=32)
def _locale(language: str) -> Locale:
    try:
        return Locale.parse(to_locale(language))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(FALLBACK_LOCALE)


def active_locale() -> Locale:
    """The Babel locale of Django's active language (English when none is active)."""
    return _locale(get_language() or FALLBACK_LOCALE)


def _decimal(value: Number) -> Decimal:
    """The value as a Decimal from its shortest repr, so 0.12295 rounds as written, not as its binary neighbour."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def decimal_text(value: Number | None, places: int = 1) -> str:
    """A plain number, grouped: 1,234.5 (en), 1 234,5 (pl); `places` decimals, rounded."""
    if value is None:
        return DASH
    pattern = WHOLE if places == 0 else f"{WHOLE}.{'0' * places}"
    return format_decimal(_decimal(value), pattern, locale=active_locale())


def count_text(value: Number | None) -> str:
    """A count is a whole number: 177, never 177.0."""
    return decimal_text(value, 0)


def percent_text(fraction: Number | None, places: int = 1) -> str:
    """A fraction as a percentage with the locale's sign and spacing: 0.12295 -> 12.3% (en), 12,3 % (ru)."""
    if fraction is None:
        return DASH
    locale = active_locale()
    return _pattern(locale, "percent", places).apply(_decimal(fraction), locale)


def money_text(amount: Number | None, currency: str | None = None, *, cents: bool = False) -> str:
    """An amount in the locale's currency format: €135,597 (en), 135 597 € (pl); whole units unless `cents`."""
    if amount is None:
        return DASH
    locale, currency = active_locale(), currency or company_currency()
    places = 2 if cents else 0
    fast = _money_format(locale, currency, places)
    if fast is not None:
        return fast.text(_decimal(amount))
    return _pattern(locale, "currency", places).apply(_decimal(amount), locale, currency=currency, currency_digits=False)


@dataclass(frozen=True)
class _MoneyFormat:
    """A locale's currency pattern for one currency and number of decimals, taken apart once: what Babel's
    NumberPattern.apply does for every amount, less the lookups it repeats each time (a board shows hundreds of
    amounts: 600 took 30 ms, now 11). The same text as Babel's (a test compares them)."""

    prefix: tuple[str, str]  # positive, negative: the currency sign and any text before the digits
    suffix: tuple[str, str]
    group: str
    decimal: str
    grouping: tuple[int, int]  # the first group's size, then the others'
    quantum: Decimal

    def text(self, amount: Decimal) -> str:
        negative = int(amount.is_signed())
        whole, _, fraction = f"{abs(amount).normalize().quantize(self.quantum):f}".partition(".")
        size, grouped = self.grouping[0], ""
        while len(whole) > size:
            grouped, whole, size = self.group + whole[-size:] + grouped, whole[:-size], self.grouping[1]
        number = whole + grouped + (self.decimal + fraction if fraction else "")
        return self.prefix[negative] + number + self.suffix[negative]


@lru_cache(maxsize=128)
def _money_format(locale: Locale, currency: str, places: int) -> _MoneyFormat | None:
    """The taken-apart pattern, or None for a pattern this does not cover (Babel formats it then)."""
    pattern = _pattern(locale, "currency", places)
    affixes = (*pattern.prefix, *pattern.suffix)
    if pattern.scale or pattern.exp_prec or "@" in pattern.pattern or pattern.int_prec[0] != 1 or "¤¤¤" in "".join(affixes):
        return None
    symbol = get_currency_symbol(currency, locale)

    def plain(affix: str) -> str:
        affix = affix.replace("¤¤", currency.upper()).replace("¤", symbol)
        return re.sub(r"'([^']*)'", lambda m: m.group(1) or "'", affix)

    return _MoneyFormat(
        prefix=(plain(pattern.prefix[0]), plain(pattern.prefix[1])),
        suffix=(plain(pattern.suffix[0]), plain(pattern.suffix[1])),
        group=get_group_symbol(locale),
        decimal=get_decimal_symbol(locale),
        grouping=pattern.grouping,
        quantum=Decimal(10) ** -places,
    )


@lru_cache(maxsize=128)
def _pattern(locale: Locale, kind: str, places: int) -> NumberPattern:
    """The locale's percent or currency pattern with `places` decimals, copied once (a board formats ~200
    amounts; copying the pattern for each was most of the cost). Never changed after: apply() only reads it."""
    pattern = copy.copy(locale.percent_formats[None] if kind == "percent" else locale.currency_formats["standard"])
    pattern.frac_prec = (places, places)
    return pattern


def compact_money_text(amount: Number | None, currency: str | None = None) -> str:
    """The short form for chart axes only: €827K (en), 827 тыс. € (ru)."""
    if amount is None:
        return DASH
    return format_compact_currency(_decimal(amount), currency or company_currency(), locale=active_locale())


def duration_text(value: Number | None, unit: str) -> str:
    """A duration with the locale's unit name: 54.3 days (en), 54,3 дн. (ru), 5,0 godz. (pl); one decimal."""
    if value is None:
        return DASH
    return format_unit(_decimal(value), DURATION_UNITS[unit], length="short", format=ONE_DECIMAL, locale=active_locale())


def largest_remainder(values: Sequence[Number | None], total: int = 100) -> list[int]:
    """Whole shares of `total` in proportion to `values` that add up to exactly `total` (Hamilton's method).

    Each value gets the whole part of its exact share; the units left over go, one each, to the largest
    remainders (ties to the earlier value). Undefined and negative values count as 0. Without a positive
    sum every share is 0: there is nothing to divide.
    """
    weights = [max(float(v), 0.0) if v is not None else 0.0 for v in values]
    whole = math.fsum(weights)
    if whole <= 0:
        return [0] * len(weights)
    exact = [w * total / whole for w in weights]
    shares = [math.floor(e) for e in exact]
    left = total - sum(shares)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - shares[i]), i))
    for index in order[:left]:
        shares[index] += 1
    return shares
