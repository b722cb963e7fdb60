"""Progress against a target: attainment, pace, status and the forecast (pure functions, no database).

`forecast` is Quota's one forecast definition: the revenue forecast card, the target rows and grid,
the team race and the alerts all take it from here (see its docstring and `FORECAST_METHOD`). Two kinds
of KPI behave differently within a period:
- cumulative ones (counts, sums) grow through the period: the pace compares the share of the
  target reached with the share of the period elapsed;
- level ones (rates, averages, snapshots) do not accumulate: there is no pace.
A closed period has final figures: attainment and status, no forecast and no pace.
For lower-is-better KPIs (sales cycle, CAC, churn) the target is a ceiling: everything is read
the other way round (attainment = target / actual; reaching the ceiling early is a miss).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from quota.kpi.definitions import Better, Definition, Unit

# Forecast within 10 % above the target is "ahead"; from 5 % short of it, still "on track".
AHEAD_FROM = 1.10
ON_TRACK_FROM = 0.95


class Status(StrEnum):
    NOT_STARTED = "not_started"
    AHEAD = "ahead"
    ON_TRACK = "on_track"
    BEHIND = "behind"
    MET = "met"
    MISSED = "missed"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    Status.NOT_STARTED: _("not started"),
    Status.AHEAD: _("ahead"),
    Status.ON_TRACK: _("on track"),
    Status.BEHIND: _("behind"),
    Status.MET: _("met"),
    Status.MISSED: _("missed"),
}

Number = int | float | Decimal


@dataclass(frozen=True)
class Progress:
    target: float
    actual: float | None
    elapsed: float  # share of the period gone, 0..1
    attainment: float | None  # 1.0 = the target exactly
    pace: float | None  # cumulative KPIs: share of target reached / share of period elapsed
    forecast: float | None  # where the period is expected to end
    status: Status | None  # None when there is no value yet (a rate with nothing to divide)


FORECAST_METHOD = _(
    "Forecast: won revenue so far plus the weighted pipeline (open deals expected to close in the period, times "
    "their stage's win probability); any other KPI at its rate so far (counts as whole numbers), a rate or an "
    "average at its current value. A closed period shows its final figures only."
)


def forecast(
    *, actual: float | None, elapsed: float, cumulative: bool, expected: float | None = None, unit: Unit | None = None
) -> float | None:
    """Where the period is expected to end: the one forecast of every page and message that shows one.

    - A closed period (all of it elapsed) has no forecast: its actual is final.
    - A KPI whose rest of the period is already known as a pipeline (won revenue: `expected` is the
      weighted pipeline of the open deals expected to close in the period) ends at actual + expected,
      also before the period starts.
    - Otherwise a cumulative KPI ends at its run rate, actual / share of the period elapsed (40 calls
      after half the month: 80), and a level KPI (a rate, an average) at its current value; neither
      has a forecast before the period starts.
    A count is forecast as a whole number (round half to even).
    """
    if elapsed >= 1:
        return None
    if expected is not None:
        value: float | None = (actual or 0.0) + expected
    elif actual is None or elapsed <= 0:
        return None
    else:
        value = actual / elapsed if cumulative else actual
    return round(value) if unit == Unit.COUNT and value is not None else value


def attainment(*, actual: float | None, target: float, better: Better) -> float | None:
    if actual is None:
        return None
    if better == Better.LOWER:
        return None if actual == 0 else target / actual
    return None if target == 0 else actual / target


def pace(*, actual: float | None, target: float, elapsed: float, cumulative: bool) -> float | None:
    """Share of the target reached / share of the period elapsed; none once the period is closed (nothing to pace)."""
    if actual is None or not cumulative or elapsed <= 0 or elapsed >= 1 or target == 0:
        return None
    return (actual / target) / min(elapsed, 1.0)


def status(
    *, actual: float | None, target: float, elapsed: float, better: Better, cumulative: bool, expected: float | None = None
) -> Status | None:
    if elapsed <= 0:
        return Status.NOT_STARTED
    if actual is None:
        return None
    reached = actual >= target if better == Better.HIGHER else actual <= target
    if elapsed >= 1:
        return Status.MET if reached else Status.MISSED
    if cumulative and better == Better.HIGHER and reached:
        return Status.MET  # already there; the rest of the period can only add
    if cumulative and better == Better.LOWER and not reached:
        return Status.MISSED  # the ceiling is already passed; the rest of the period can only add
    ending = forecast(actual=actual, elapsed=elapsed, cumulative=cumulative, expected=expected)
    assert ending is not None
    # How far the forecast is beyond the target, relative to the target's size (NPS targets may be 0 or negative).
    beyond = ending - target if better == Better.HIGHER else target - ending
    score = 1 + beyond / abs(target) if target else _sign_score(beyond)
    if score >= AHEAD_FROM:
        return Status.AHEAD
    if score >= ON_TRACK_FROM:
        return Status.ON_TRACK
    return Status.BEHIND


def _sign_score(beyond: float) -> float:
    """Against a target of 0 only the direction counts."""
    if beyond == 0:
        return 1.0
    return float("inf") if beyond > 0 else float("-inf")


def progress(
    *,
    actual: Number | None,
    target: Number,
    elapsed: float,
    better: Better,
    cumulative: bool,
    expected: float | None = None,
    unit: Unit | None = None,
) -> Progress:
    """Attainment, pace, forecast and status; `expected` and `unit` as `forecast` takes them."""
    value = None if actual is None else float(actual)
    goal = float(target)
    return Progress(
        target=goal,
        actual=value,
        elapsed=elapsed,
        attainment=attainment(actual=value, target=goal, better=better),
        pace=pace(actual=value, target=goal, elapsed=elapsed, cumulative=cumulative),
        forecast=forecast(actual=value, elapsed=elapsed, cumulative=cumulative, expected=expected, unit=unit),
        status=status(actual=value, target=goal, elapsed=elapsed, better=better, cumulative=cumulative, expected=expected),
    )


def kpi_progress(
    definition: Definition, *, actual: Number | None, target: Number, elapsed: float, expected: float | None = None
) -> Progress:
    """`progress` of a KPI's value against its target, with the KPI's direction, unit and whether it adds up."""
    return progress(
        actual=actual,
        target=target,
        elapsed=elapsed,
        better=definition.better,
        cumulative=definition.is_cumulative,
        expected=expected,
        unit=definition.unit,
    )
