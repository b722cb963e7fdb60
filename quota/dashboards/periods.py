"""The period a dashboard shows, read from GET parameters so every view of it has a shareable URL.

    ?period=this_month | this_quarter | this_year | last_month | last_quarter | last_year
    ?period=custom&start=2026-01-01&end=2026-03-15

Trends compare like with like: a period still running is compared with the same days of the
period before it (1-24 November with 1-24 October), not with the whole previous month, which
would make every cumulative KPI look worse early in a month.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from quota.core.inputs import validate_supported_day
from quota.kpi.periods import Every, Span, floor, inclusive, shift

# Longer custom ranges are refused: nobody reads them on a dashboard, and they are slow to evaluate.
MAX_CUSTOM_DAYS = 3 * 366


class PeriodKey(StrEnum):
    THIS_MONTH = "this_month"
    THIS_QUARTER = "this_quarter"
    THIS_YEAR = "this_year"
    LAST_MONTH = "last_month"
    LAST_QUARTER = "last_quarter"
    LAST_YEAR = "last_year"
    CUSTOM = "custom"


PERIOD_CHOICES = [
    (PeriodKey.THIS_MONTH, gettext_lazy("This month")),
    (PeriodKey.THIS_QUARTER, gettext_lazy("This quarter")),
    (PeriodKey.THIS_YEAR, gettext_lazy("This year")),
    (PeriodKey.LAST_MONTH, gettext_lazy("Previous month")),
    (PeriodKey.LAST_QUARTER, gettext_lazy("Previous quarter")),
    (PeriodKey.LAST_YEAR, gettext_lazy("Previous year")),
    (PeriodKey.CUSTOM, gettext_lazy("Custom range")),
]
DEFAULT = PeriodKey.THIS_MONTH
NAMED: dict[PeriodKey, tuple[Every, int]] = {
    PeriodKey.THIS_MONTH: (Every.MONTH, 0),
    PeriodKey.THIS_QUARTER: (Every.QUARTER, 0),
    PeriodKey.THIS_YEAR: (Every.YEAR, 0),
    PeriodKey.LAST_MONTH: (Every.MONTH, -1),
    PeriodKey.LAST_QUARTER: (Every.QUARTER, -1),
    PeriodKey.LAST_YEAR: (Every.YEAR, -1),
}


@dataclass(frozen=True)
class Period:
    key: PeriodKey
    start: dt.date
    end: dt.date  # inclusive
    every: Every  # the calendar period it is (month, quarter, year), NONE for a custom range

    @property
    def span(self) -> Span:
        return inclusive(self.start, self.end)

    @property
    def params(self) -> dict[str, str]:
        """The GET parameters that show this period again."""
        if self.key == PeriodKey.CUSTOM:
            return {"period": self.key.value, "start": self.start.isoformat(), "end": self.end.isoformat()}
        return {"period": self.key.value}

    @property
    def querystring(self) -> str:
        return urlencode(self.params)

    @property
    def label(self) -> str:
        if self.every == Every.MONTH:
            return date_format(self.start, "YEAR_MONTH_FORMAT")
        if self.every == Every.QUARTER:
            return _("Q%(quarter)s %(year)s") % {"quarter": (self.start.month - 1) // 3 + 1, "year": self.start.year}
        if self.every == Every.YEAR:
            return str(self.start.year)
        return range_label(self.start, self.end)

    def to_date(self, today: dt.date) -> Span:
        """The part of the period that has happened by the end of `today` (all of it for a past period)."""
        if today < self.start:
            return Span(self.start, self.start)
        return inclusive(self.start, min(self.end, today))

    def previous_to_date(self, today: dt.date) -> Span:
        """What the trend compares with: the same days of the previous period (the same length before a custom range)."""
        current = self.to_date(today)
        if self.every == Every.NONE:
            return current.before()
        start = shift(self.start, self.every, -1)
        return Span(start, min(start + dt.timedelta(days=current.days), self.start))


def range_label(start: dt.date, end: dt.date) -> str:
    return f"{date_format(start, 'SHORT_DATE_FORMAT')} – {date_format(end, 'SHORT_DATE_FORMAT')}"


def named_period(key: PeriodKey, today: dt.date) -> Period:
    every, offset = NAMED[key]
    start = shift(floor(today, every), every, offset)
    return Period(key, start, shift(start, every, 1) - dt.timedelta(days=1), every)


class PeriodForm(forms.Form):
    """The period picker; an invalid choice shows its errors and the dashboard falls back to this month."""

    period = forms.ChoiceField(label=gettext_lazy("Period"), choices=PERIOD_CHOICES, required=False)
    start = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_supported_day],
    )
    end = forms.DateField(
        label=gettext_lazy("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_supported_day],
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("period") != PeriodKey.CUSTOM:
            return data
        start, end = data.get("start"), data.get("end")
        if not start or not end:
            raise forms.ValidationError(_("Choose both the first and the last day of the range."))
        if end < start:
            raise forms.ValidationError(_("The range ends before it starts."))
        if (end - start).days > MAX_CUSTOM_DAYS:
            raise forms.ValidationError(_("Choose a range of at most three years."))
        return data


def period_from(params: dict | None, today: dt.date) -> tuple[Period, PeriodForm]:
    """The period the GET parameters ask for (this month when they ask for none or for something invalid)."""
    form = PeriodForm(params if params and "period" in params else {"period": DEFAULT.value})
    if not form.is_valid():
        return named_period(DEFAULT, today), form
    key = PeriodKey(form.cleaned_data.get("period") or DEFAULT)
    if key == PeriodKey.CUSTOM:
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        return Period(key, start, end, Every.NONE), form
    period = named_period(key, today)
    # The picker shows the dates the named period covers, so switching to "custom" starts from them.
    form = PeriodForm({"period": key.value, "start": period.start.isoformat(), "end": period.end.isoformat()})
    form.is_valid()
    return period, form
