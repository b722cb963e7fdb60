"""The forecast with ranges: how much a period will bring, as P10 / P50 / P90, and the chance of reaching a target.

Method (stated on the forecast page, `METHOD`):
- The deals are those the forecast card counts: open now, expected to close in the period, created by its end.
- Each deal is won within the period with chance q = p x (1 - slip): p is its win probability (the learned model's
  where one is trained, else its stage's; `probability`), and slip is the share of the value that, in the period
  before, was expected to close in it at its start and then had its close date moved out (`past_slip`, from the
  pipeline's history; 0 without one).
- The revenue of a group is its won revenue plus each of its deals won (its amount) or not, independently. Its
  distribution is computed exactly, amounts rounded to a grid of `STEPS` steps of the group's pipeline: what a
  simulation of every deal converges to, without its sampling noise (a test checks it against a Monte Carlo run
  and against the binomial law), and 50 times faster than 10,000 draws at the large size. P10 / P50 / P90 are
  its quantiles (P10: nine times in ten the period brings at least this); the chance of reaching a target is the
  probability of reaching it. So the same pipeline gives the same ranges on every page and every reload.
- The mean is exactly won + sum(q x amount) (`expected`): with stage probabilities and no slip, the forecast card.

The inputs come from the database in one grouped read (amount in company currency, q and the group of each deal);
the revenue already won comes from the KPI engine (`forecasting.selectors.revenue_forecast`), the one definition
the dashboards show. Amounts are in the company currency.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Expression, FloatField, Q, Value
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy
from scipy import stats

from quota.core.calendar import local_midnight
from quota.core.money import in_company_currency
from quota.core.visibility import visible_owner_ids
from quota.crm.choices import DealStatus
from quota.crm.models import Deal
from quota.forecasting.history import slip_rate
from quota.forecasting.probability import win_probability
from quota.forecasting.selectors import Forecast, revenue_forecast
from quota.kpi.cache import kept_statement
from quota.kpi.engine import Group
from quota.kpi.layout import GroupKey
from quota.kpi.periods import Every, floor, shift

QUANTILES = (0.1, 0.5, 0.9)
STEPS = 5_000  # the revenue grid of an exact distribution: a group's pipeline in this many steps
DOMINANT_SHARE = 0.1  # a deal carrying more of the variance than this makes the law lumpy: computed exactly
EXACT_UP_TO = 100  # deals in a group whose distribution is computed exactly; beyond, its moments' expansion

GROUP_PATHS = {"person": "owner_id", "team": "owner__team_id"}

METHOD = gettext_lazy(
    "Each deal open now and expected to close in the period is won within it with chance p × (1 − slip): p is its "
    "win probability, slip the share of the value that, in the period before, was expected to close in it at its "
    "start and then had its close date moved out. The revenue already won plus every deal, won or not, "
    "independently, gives the distribution of the period's revenue: computed exactly for up to 100 deals, and "
    "from its first four moments beyond. P10, P50 and P90 are its quantiles (nine times in ten the period brings "
    "at least P10); the chance of reaching a target is the probability of reaching it."
)


@dataclass(frozen=True)
class RangeRow:
    """The forecast of one group (a person, a team) or of everything the user sees (group None)."""

    group: Group | None
    won: float  # revenue won so far in the period
    expected: float  # won + sum(q x amount): the mean of the draws
    p10: float
    p50: float
    p90: float
    open_deals: int
    pipeline: float  # the open deals' unweighted amount
    target: float | None = None
    reach: float | None = None  # chance of reaching `target` (0..1)

    @property
    def key(self) -> GroupKey:
        """The group's id (None: everything the user sees)."""
        return self.group.id if self.group else None

    @property
    def remaining(self) -> float | None:
        """What is left to win to reach the target (None without one, 0 once reached)."""
        return None if self.target is None else max(self.target - self.won, 0.0)

    @property
    def coverage(self) -> float | None:
        """Pipeline coverage: the open pipeline expected in the period over what is left of the target.

        None without a target or once it is reached (nothing is left to cover).
        """
        remaining = self.remaining
        return None if not remaining else self.pipeline / remaining


def expected_forecast(row: RangeRow | None, *, elapsed: float, group: Group | None = None) -> Forecast:
    """The forecast (won + the pipeline's expected revenue) of a group's ranges: zeros for a group with neither."""
    if row is None:
        return Forecast(group, 0.0, 0.0, 0.0, 0, elapsed)
    return Forecast(group, row.won, row.expected - row.won, row.pipeline, row.open_deals, elapsed)


@dataclass(frozen=True)
class Ranges:
    start: dt.date
    end: dt.date
    rows: list[RangeRow]
    slip: float

    def for_group(self, group: GroupKey) -> RangeRow | None:
        return next((row for row in self.rows if row.key == group), None)

    def by_group(self) -> dict[GroupKey, RangeRow]:
        return {row.key: row for row in self.rows}


def distribution(amounts: np.ndarray, chances: np.ndarray, *, steps: int = STEPS) -> tuple[np.ndarray, float]:
    """The distribution of the revenue a set of deals brings, each won (its amount) or not, independently.

    Amounts are rounded to a grid of about `steps` steps of the deals' total; returns the probability of each
    grid point and the step's width (revenue = index x width). Exact on the grid: what an unending simulation
    of every deal would converge to, with no sampling noise, in one pass over the deals (a convolution each).
    """
    total = float(amounts.sum())
    if total <= 0:
        return np.ones(1), 0.0
    width = total / steps
    sizes = np.rint(amounts / width).astype(np.int64)
    pmf = np.zeros(int(sizes.sum()) + 1)
    pmf[0] = 1.0
    top = 0  # the highest revenue reachable so far, in steps
    for size, chance in zip(sizes.tolist(), chances.tolist(), strict=True):
        if size == 0 or chance <= 0:
            continue
        before = pmf[: top + 1].copy()
        pmf[: top + 1] *= 1.0 - chance
        pmf[size : size + top + 1] += chance * before
        top += size
    return pmf[: top + 1], width


@dataclass(frozen=True)
class Outlook:
    """What a group's open deals may bring: its quantiles and its chance of reaching a target."""

    p10: float
    p50: float
    p90: float
    reach: float | None


def outlook(pmf: np.ndarray, width: float, *, won: float, target: float | None, shift: float = 0.0) -> Outlook:
    """Quantiles of won + the deals' revenue (an exact distribution on a grid), and the chance of reaching `target`.

    `shift` moves the grid by what rounding the amounts to it took off the mean, so the mean stays exact.
    """
    cdf = np.cumsum(pmf)
    cdf /= cdf[-1]
    base = won + shift
    p10, p50, p90 = (base + float(np.searchsorted(cdf, share - 1e-12)) * width for share in QUANTILES)
    reach = None
    if target is not None:
        needed = max(target - base, 0.0)
        # The grid points at or above what is still needed (a hair of slack for the rounding of equal amounts).
        first = int(np.ceil(needed / width - 1e-9)) if width else (0 if needed <= 0 else len(pmf))
        reach = float(pmf[first:].sum() / pmf.sum()) if first < len(pmf) else 0.0
    return Outlook(p10, p50, p90, reach)


def exact_outlook(amounts: np.ndarray, chances: np.ndarray, *, won: float, target: float | None) -> Outlook:
    pmf, width = distribution(amounts, chances)
    on_grid = np.rint(amounts / width) * width if width else amounts
    return outlook(pmf, width, won=won, target=target, shift=float(((amounts - on_grid) * chances).sum()))


@dataclass(frozen=True)
class Cumulants:
    """The first four cumulants of a group's revenue from its open deals (each won or not), summed in SQL."""

    deals: int
    pipeline: float  # the sum of the amounts: the most the deals can bring
    k1: float  # the mean
    k2: float  # the variance
    k3: float
    k4: float
    largest: float  # the largest deal's share of the variance is largest / k2

    @property
    def near_normal(self) -> bool:
        """Many deals, none of which weighs much in the spread: what the expansion needs to be right."""
        return self.deals > EXACT_UP_TO and self.largest <= DOMINANT_SHARE * self.k2


def expansion_outlook(moments: Cumulants, *, won: float, target: float | None) -> Outlook:
    """Quantiles and chance for many deals, from the distribution's first four cumulants (exact), without a grid.

    With hundreds of deals the sum is close to normal; the Cornish-Fisher expansion corrects the quantiles for its
    skew and tails, and the Edgeworth expansion the chance of reaching a target. (A grid fine enough for every
    deal of a large pipeline would not fit in memory, and a coarse one would round small deals away.)
    """
    mean, top = won + moments.k1, won + moments.pipeline
    if moments.k2 <= 0:  # every deal certain: the revenue is known
        return Outlook(mean, mean, mean, None if target is None else float(mean >= target))
    sd = math.sqrt(moments.k2)
    skew, kurt = moments.k3 / sd**3, moments.k4 / sd**4

    def quantile(share: float) -> float:
        z = float(stats.norm.ppf(share))
        w = z + (z * z - 1) * skew / 6 + (z**3 - 3 * z) * kurt / 24 - (2 * z**3 - 5 * z) * skew**2 / 36
        return min(max(mean + sd * w, won), top)

    reach = None
    if target is not None:
        z = (target - mean) / sd
        below = float(stats.norm.cdf(z)) - float(stats.norm.pdf(z)) * (
            skew / 6 * (z * z - 1) + kurt / 24 * (z**3 - 3 * z) + skew**2 / 72 * (z**5 - 10 * z**3 + 15 * z)
        )
        reach = 1.0 if target <= won else 0.0 if target > top else min(max(1 - below, 0.0), 1.0)
    p10, p50, p90 = (quantile(share) for share in QUANTILES)
    return Outlook(p10, p50, p90, reach)


def cumulants_of(amounts: np.ndarray, chances: np.ndarray) -> Cumulants:
    """The same sums in Python (for a test's world, and for checking the SQL)."""
    a, q = amounts, chances
    v = q * (1 - q)
    return Cumulants(
        len(a),
        float(a.sum()),
        float((a * q).sum()),
        float((a**2 * v).sum()),
        float((a**3 * v * (1 - 2 * q)).sum()),
        float((a**4 * v * (1 - 6 * v)).sum()),
        float((a**2 * v).max(initial=0.0)),
    )


def forecast_ranges(
    *,
    user: Any,
    start: dt.date,
    end: dt.date,
    by: str = "none",
    targets: dict[GroupKey, float] | None = None,
    probability: Expression | None = None,
    slip: float | None = None,
    won: dict[GroupKey, float] | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> Ranges:
    """P10 / P50 / P90 of the revenue start..end (inclusive) will bring, per person or team or in total (`by`).

    `targets` maps a group (None: the total) to the revenue to reach; its row then says the chance of reaching it.
    `slip` is the share of the pipeline expected to slip out of the period; by default the last period's
    (`past_slip`). `won` is the revenue won so far per group when the caller has it already (a dashboard's forecast card): the
    KPI engine is then not asked again, and only those groups (and the targets') are given.
    """
    if by not in ("none", *GROUP_PATHS):
        raise ValueError(f"by must be none, person or team, not {by!r}")
    if slip is None:
        slip = past_slip(user=user, start=start, end=end, using=using)
    if not 0 <= slip < 1:
        raise ValueError("slip is a share from 0 to 1")
    path = GROUP_PATHS.get(by, "")
    deals = expected_deals(user=user, start=start, end=end, using=using)
    labels: dict[GroupKey, Group] = {}
    if won is None:
        won_rows = revenue_forecast(user=user, start=start, end=end, by=by, using=using)
        won = {None: won_rows.overall.won} if by == "none" else {_key(f.group): f.won for f in won_rows.rows}
        labels = {_key(f.group): f.group for f in won_rows.rows if f.group}
        only = None
    else:
        only = set(won) | set(targets or {})
        deals = deals.filter(_in_groups(path, only)) if path else deals
    chance = (probability or win_probability()) * Value(1.0 - slip)
    sums = _group_cumulants(deals, path, chance)
    # Groups of few deals, or with a deal that weighs heavily, get their exact distribution, from the deals themselves
    # (one more query for all of them).
    few = {key for key, m in sums.items() if not m.near_normal}
    exact: dict[GroupKey, list[tuple[float, float]]] = {key: [] for key in few}
    if few:
        listed = deals.filter(_in_groups(path, few)) if path else deals
        columns = ("value", "q", *([path] if path else []))
        for value, q, *group in listed.annotate(value=_AMOUNT, q=chance).values_list(*columns):
            exact[group[0] if path else None].append((float(value or 0), min(max(float(q or 0), 0.0), 1.0)))
    # Every group with deals, revenue won or a target: a target with nothing behind it has no chance.
    if by == "none":
        keys: list[GroupKey] = [None]
    else:
        keys = sorted(only if only is not None else set(sums) | set(won) | set(targets or {}), key=_order)
    result = []
    for key in keys:
        so_far = won.get(key, 0.0)
        goal = (targets or {}).get(key)
        moments = sums.get(key) or Cumulants(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        if key in exact or moments.deals == 0:
            pairs = np.array(exact.get(key) or [], dtype=np.float64).reshape(-1, 2)
            shape = exact_outlook(pairs[:, 0], pairs[:, 1], won=so_far, target=goal)
        else:
            shape = expansion_outlook(moments, won=so_far, target=goal)
        result.append(
            RangeRow(
                group=None if by == "none" else labels.get(key, Group(key, "")),
                won=so_far,
                expected=so_far + moments.k1,
                p10=shape.p10,
                p50=shape.p50,
                p90=shape.p90,
                open_deals=moments.deals,
                pipeline=moments.pipeline,
                target=goal,
                reach=shape.reach,
            )
        )
    result.sort(key=lambda row: -row.p50)
    return Ranges(start, end, result, slip)


_AMOUNT = Cast(in_company_currency("amount"), FloatField())


def _group_cumulants(deals: Any, path: str, chance: Expression) -> dict[GroupKey, Cumulants]:
    """Per group, the count, pipeline and the first four cumulants of its revenue: one grouped query.

    Each deal's amount and chance are computed once, in a subquery the planner may not fold into the sums
    (an OFFSET fence): folded, every sum would compute them again (the amount in exact decimals), which made
    the query four times slower at the large size. The sums are the same expressions, in the same order.
    """
    inner = deals.annotate(a=_AMOUNT, q=chance).values(*([path] if path else []), "a", "q").order_by()
    sql, params = inner.query.sql_with_params()
    connection = connections[deals.db]
    quote = connection.ops.quote_name
    group = quote(path) if path else "NULL"
    fence = _FENCES.get(connection.vendor, "")
    v = "(q * (1.0 - q))"
    sums = ", ".join(
        (
            "COUNT(*)",
            "SUM(a)",
            "SUM(a * q)",
            f"SUM(a * a * {v})",
            f"SUM(a * a * a * {v} * (1.0 - 2.0 * q))",
            f"SUM(a * a * a * a * {v} * (1.0 - 6.0 * {v}))",
            f"MAX(a * a * {v})",
        )
    )
    grouped = f" GROUP BY {group}" if path else ""
    statement = f"SELECT {group}, {sums} FROM ({sql}{fence}) AS deal{grouped}"

    def run() -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall()

    # Kept while none of the tables it reads changes (KPI_CACHE_SECONDS): a dashboard asked for again does not sum
    # the period's open deals again until a deal, a score or a stage does.
    rows = kept_statement(statement, params, deals.db, run)
    return {key: Cumulants(n, *(float(value or 0) for value in figures)) for key, n, *figures in rows if n}


# A subquery the planner keeps whole (PostgreSQL and SQLite fold a plain one into the query around it).
_FENCES = {"postgresql": " OFFSET 0", "sqlite": " LIMIT -1 OFFSET 0"}


def expected_deals(*, user: Any, start: dt.date, end: dt.date, using: str = DEFAULT_DB_ALIAS) -> Any:
    """The deals the forecast counts: open now, expected to close from `start` to `end`, created by its end.

    As `user` may read them; `user` None is the system (the early warnings): everything, as the KPI engine reads it.
    """
    everything = Deal.objects.using(using).all()
    return (everything if user is None else everything.visible_to(user)).filter(
        status=DealStatus.OPEN,
        expected_close_date__gte=start,
        expected_close_date__lte=end,
        created_at__lt=local_midnight(end + dt.timedelta(days=1)),
    )


def past_slip(*, user: Any, start: dt.date, end: dt.date, using: str = DEFAULT_DB_ALIAS) -> float:
    """The share of value that slipped out of the period before this one, of the same length (0 without history).

    Read from the pipeline's history (forecasting.history.slip_rate) as `user` sees it, and kept for
    FORECAST_SLIP_SECONDS (an hour): a past period's history seldom changes, and reading it takes a second at
    the large size.
    """
    length = (end - start).days + 1
    before_end = start - dt.timedelta(days=1)
    before_start = _previous_start(start, end)
    owners = visible_owner_ids(user) if user is not None else None
    scope = "all" if owners is None else hashlib.sha256(repr(sorted(owners)).encode()).hexdigest()[:16]
    key = f"forecast-slip:{using}:{scope}:{before_start.isoformat()}:{before_end.isoformat()}:{length}"
    seconds = int(getattr(settings, "FORECAST_SLIP_SECONDS", 3600))
    found = cache.get(key) if seconds > 0 else None
    if found is not None:
        return float(found)
    rows = slip_rate(user=user, period_start=before_start, period_end=before_end)
    share = min(rows[0].value_rate or 0.0, 0.95) if rows else 0.0
    if seconds > 0:
        cache.set(key, share, seconds)
    return share


def _previous_start(start: dt.date, end: dt.date) -> dt.date:
    """The start of the period before start..end: the previous month or quarter, or the same number of days."""
    for every in (Every.MONTH, Every.QUARTER, Every.YEAR):
        if floor(start, every) == start and shift(start, every, 1) - dt.timedelta(days=1) == end:
            return shift(start, every, -1)
    return start - dt.timedelta(days=(end - start).days + 1)


def _in_groups(path: str, keys: set[GroupKey]) -> Q:
    """Deals of these groups (None: those with no person or team)."""
    wanted = Q(**{f"{path}__in": [key for key in keys if key is not None]})
    return wanted | Q(**{f"{path}__isnull": True}) if None in keys else wanted


def _key(group: Group | None) -> GroupKey:
    return group.id if group else None


def _order(key: GroupKey) -> tuple[bool, Any]:
    return (key is None, key or 0)
