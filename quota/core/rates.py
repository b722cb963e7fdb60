"""Exchange rates from the command line: one rate, or a central bank's file of dated rates (all or nothing).

A rate is company currency per unit of the other currency (see core.money). Two CSV layouts are read:

- long, one rate a row: `date,currency,rate` (as most central banks publish against their own currency:
  the National Bank of Poland's PLN per unit for a company reporting in PLN);
- wide, the European Central Bank's `eurofxref-hist.csv`: `Date,USD,JPY,...`, each cell that currency per
  euro. It is converted: 1 / cell for a company reporting in euros; otherwise the company currency's own
  column divided by the cell (and the company currency's cell for EUR itself). "N/A" cells are days
  without a quote and are skipped, as are currencies Quota does not keep.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction

from quota.core.inputs import EARLIEST_DAY, LATEST_DAY
from quota.core.models import ExchangeRate
from quota.core.money import CURRENCIES, company_currency

CODES = {code for code, _label in CURRENCIES}
PLACES = Decimal("0.00000001")  # ExchangeRate.rate keeps 8 decimal places
ECB_BASE = "EUR"
NO_QUOTE = {"", "N/A", "NA", "-"}


def parse_day(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a date (YYYY-MM-DD)") from None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValueError(f"{day} is outside {EARLIEST_DAY}..{LATEST_DAY}")
    return day


def parse_currency(text: str) -> str:
    code = text.strip().upper()
    if code not in CODES:
        raise ValueError(f"{text.strip()!r} is not a currency Quota keeps; use one of {', '.join(sorted(CODES))}")
    if code == company_currency():
        raise ValueError(f"{code} is the company currency: its rate is always 1")
    return code


def parse_rate(text: str) -> Decimal:
    try:
        rate = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"{text.strip()!r} is not a number") from None
    if not rate.is_finite() or rate <= 0:
        raise ValueError(f"the rate must be a positive number, not {text.strip()}")
    rounded = rate.quantize(PLACES)
    if rounded <= 0 or rounded >= Decimal("1e10"):
        raise ValueError(f"{text.strip()} is out of range for a rate (8 decimal places, below 10,000,000,000)")
    return rounded


def rate_set(*, currency: str, rate: str, day: str) -> tuple[ExchangeRate, bool]:
    """Add (or replace) the rate of `currency` from `day`; ValueError says which argument is wrong."""
    row = ExchangeRate(currency=parse_currency(currency), valid_from=parse_day(day), rate=parse_rate(rate))
    saved, created = ExchangeRate.objects.update_or_create(
        currency=row.currency, valid_from=row.valid_from, defaults={"rate": row.rate}
    )
    return saved, created


@dataclass
class RatesFile:
    rates: dict[tuple[str, dt.date], Decimal] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    layout: str = ""


def read_rates(text: str) -> RatesFile:
    """Every rate of a CSV (long or ECB wide layout) with every problem by line; nothing is written."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    out = RatesFile()
    if not rows:
        out.errors.append("the file is empty")
        return out
    header = [cell.strip() for cell in rows[0]]
    lowered = [cell.lower() for cell in header]
    if {"date", "currency", "rate"} <= set(lowered):
        out.layout = "long"
        _read_long(rows[1:], [lowered.index(name) for name in ("date", "currency", "rate")], out)
    elif lowered and lowered[0] == "date" and len(header) > 1:
        out.layout = "ECB wide"
        _read_wide(rows[1:], header, out)
    else:
        out.errors.append(
            "line 1: the header must be date,currency,rate, or Date followed by currency codes (the ECB's eurofxref-hist.csv)"
        )
    return out


def _keep(out: RatesFile, line: int, currency: str, day: dt.date, rate: Decimal) -> None:
    known = out.rates.get((currency, day))
    if known is not None and known != rate:
        out.errors.append(f"line {line}: {currency} on {day} is given twice ({known} and {rate})")
    out.rates[(currency, day)] = rate


def _read_long(rows: list[list[str]], columns: list[int], out: RatesFile) -> None:
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(columns):
            out.errors.append(f"line {line}: expected date, currency and rate")
            continue
        try:
            day, currency, rate = (
                parse_day(row[columns[0]]),
                parse_currency(row[columns[1]]),
                parse_rate(row[columns[2]]),
            )
        except ValueError as exc:
            out.errors.append(f"line {line}: {exc}")
            continue
        _keep(out, line, currency, day, rate)


def _read_wide(rows: list[list[str]], header: list[str], out: RatesFile) -> None:
    own = company_currency()
    columns = {index: code.upper() for index, code in enumerate(header) if index and code}
    wanted = {index: code for index, code in columns.items() if code in CODES and code != own}
    out.ignored_columns = sorted(code for index, code in columns.items() if index not in wanted and code != own)
    own_column = next((index for index, code in columns.items() if code == own), None)
    if own != ECB_BASE and own_column is None:
        out.errors.append(f"line 1: the rates are per euro and the file has no {own} column to convert them to {own}")
        return
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            day = parse_day(row[0])
        except ValueError as exc:
            out.errors.append(f"line {line}: {exc}")
            continue
        try:
            per_euro = _per_euro(row, own_column)
        except ValueError as exc:
            out.errors.append(f"line {line}, {own}: {exc}")
            continue
        if per_euro is None:
            continue  # no quote of the company currency that day: nothing to convert
        if own != ECB_BASE:
            _keep(out, line, ECB_BASE, day, per_euro.quantize(PLACES))
        for index, code in wanted.items():
            cell = row[index].strip() if index < len(row) else ""
            if cell.upper() in NO_QUOTE:
                continue
            try:
                quote = parse_rate(cell)
                rate = (per_euro / quote).quantize(PLACES)
                if rate <= 0:
                    raise ValueError(f"{cell} per euro gives a rate too small to keep")
            except ValueError as exc:
                out.errors.append(f"line {line}, {code}: {exc}")
                continue
            _keep(out, line, code, day, rate)


def _per_euro(row: list[str], own_column: int | None) -> Decimal | None:
    """Company currency per euro on this row (1 for a company in euros); None without a quote."""
    if own_column is None:
        return Decimal(1)
    cell = row[own_column].strip() if own_column < len(row) else ""
    return None if cell.upper() in NO_QUOTE else parse_rate(cell)


@transaction.atomic
def rates_save(rates: dict[tuple[str, dt.date], Decimal]) -> tuple[int, int]:
    """Write the rates in one transaction (a day's existing rate is replaced); (added, replaced)."""
    days = [day for _currency, day in rates]
    existing = set(
        ExchangeRate.objects.filter(
            currency__in={currency for currency, _day in rates}, valid_from__range=(min(days), max(days))
        ).values_list("currency", "valid_from")
    )
    rows = [ExchangeRate(currency=currency, valid_from=day, rate=rate) for (currency, day), rate in rates.items()]
    ExchangeRate.objects.bulk_create(
        rows, batch_size=2_000, update_conflicts=True, unique_fields=["currency", "valid_from"], update_fields=["rate"]
    )
    replaced = len(existing & set(rates))
    return len(rates) - replaced, replaced


def rates_import(text: str) -> tuple[RatesFile, int, int]:
    """Read and, if every row is right, save; ValidationError lists every problem and nothing is written."""
    read = read_rates(text)
    if read.errors:
        raise ValidationError(read.errors)
    if not read.rates:
        raise ValidationError(["the file holds no rate"])
    added, replaced = rates_save(read.rates)
    return read, added, replaced


def rate_rows(currency: str | None = None) -> Iterable[ExchangeRate]:
    rows = ExchangeRate.objects.order_by("currency", "valid_from")
    return rows.filter(currency=currency.upper()) if currency else rows
