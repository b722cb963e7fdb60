"""Turning cell values (text from CSV, native values from XLSX) into Python values for a field.

Each parser returns the value or raises `ValueProblem` with a message a person can act on. Parsers
are strict where guessing would be wrong (03/04/2017 is refused without a date format), lenient
where there is one reading (thousands separators, a currency sign, Excel's 12.0 for 12).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone

# "NA" is not here: it is Namibia's country code.
BLANKS = {"", "n/a", "#n/a", "null", "nan"}
TRUE_WORDS = {"1", "true", "yes", "y", "t", "x", "tak", "да", "بله"}
FALSE_WORDS = {"0", "false", "no", "n", "f", "nie", "нет", "خیر"}
CURRENCY_SIGNS = "$€£¥₽₴zł"
GROUPED_NUMBER = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
ISO_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}([T ].*)?$")
SLASHED_YMD = re.compile(r"^\d{4}/\d{1,2}/\d{1,2}$")


class ValueProblem(ValueError):
    """A cell that cannot be read as the field's type; the message says what was expected."""


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    return isinstance(value, str) and value.strip().casefold() in BLANKS


def text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores 12 as 12.0; an id column should read "12"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def decimal(value: Any, *, decimal_comma: bool = False) -> Decimal:
    if isinstance(value, bool):
        raise ValueProblem("expected a number, not a yes/no value")
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value))
    else:
        cleaned = str(value).strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
        cleaned = cleaned.strip(CURRENCY_SIGNS)
        if decimal_comma:
            cleaned = cleaned.replace(".", "").replace(",", ".")
        elif GROUPED_NUMBER.match(cleaned):
            cleaned = cleaned.replace(",", "")
        try:
            number = Decimal(cleaned)
        except InvalidOperation:
            raise ValueProblem("expected a number such as 1234.50")
    if not number.is_finite():
        raise ValueProblem("expected a finite number")
    return number


def integer(value: Any) -> int:
    number = decimal(value)
    if number != number.to_integral_value():
        raise ValueProblem("expected a whole number")
    if abs(number) > 2**63 - 1:
        raise ValueProblem("the number is too large")
    return int(number)


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = text(value).casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueProblem("expected yes or no (also true/false, 1/0)")


def date(value: Any, *, date_format: str = "") -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raw = text(value)
    try:
        if date_format:
            return dt.datetime.strptime(raw, date_format).date()
        if ISO_DATE.match(raw):
            return dt.datetime.fromisoformat(raw).date() if ("T" in raw or " " in raw) else dt.date.fromisoformat(_pad(raw))
        if SLASHED_YMD.match(raw):
            return dt.date.fromisoformat(_pad(raw.replace("/", "-")))
    except ValueError:
        raise ValueProblem(f"not a real date{f' in the format {date_format}' if date_format else ''}")
    if date_format:
        raise ValueProblem(f"expected a date in the format {date_format}")
    raise ValueProblem("expected a date as YYYY-MM-DD (give the file's date format for other layouts)")


def datetime(value: Any, *, date_format: str = "") -> dt.datetime:
    """A moment; a date alone means midnight in the company's time zone, which is where periods are cut."""
    if isinstance(value, dt.datetime):
        moment = value
    else:
        raw = text(value)
        parsed: dt.datetime | None = None
        if not date_format and ISO_DATE.match(raw) and ("T" in raw or " " in raw):
            try:
                parsed = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                raise ValueProblem("not a real date and time")
        elif date_format and any(code in date_format for code in ("%H", "%I", "%M")):
            try:
                parsed = dt.datetime.strptime(raw, date_format)
            except ValueError:
                raise ValueProblem(f"expected a date and time in the format {date_format}")
        moment = parsed or dt.datetime.combine(date(value, date_format=date_format), dt.time.min)
    if timezone.is_naive(moment):
        try:
            moment = timezone.make_aware(moment)
        except (OverflowError, ValueError):
            raise ValueProblem("the date is out of range")
    return moment


def choice(value: Any, choices: list[tuple[str, str]]) -> str:
    """A stored choice value, given either the value or its label, in any letter case."""
    wanted = text(value).casefold()
    for stored, label in choices:
        if wanted in (str(stored).casefold(), str(label).casefold()):
            return str(stored)
    allowed = ", ".join(str(stored) for stored, _ in choices)
    raise ValueProblem(f"expected one of: {allowed}")


def _pad(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{year}-{int(month):02d}-{int(day):02d}"
