"""What was known about a deal at a moment: the features the win-probability model learns from and scores.

`features(deal_ids, moments)` reads, for each (deal, moment) pair, only what the records said at that moment:

- the deal's stage, amount (company currency; None in the history means it was not known then, which gets its
  own indicator), expected close date and owner come from its history (crm.DealState), the state valid then;
- age since creation, and days in the stage since its last stage change before the moment (crm.DealStageChange);
- source and product: the deal's lead source and `custom.product` (the Maven preset's product), else the product
  of the first line of its first offer created by then (the seed quotes products on offers);
- new or existing customer: whether the deal's company had a deal won before the moment;
- the owner's win rate over deals closed (by anyone's hand, while they owned them) before the moment, smoothed
  towards the company's win rate before the moment with PRIOR_WEIGHT deals' worth of weight, and how many
  deals they had closed (a rate from 3 deals says less than one from 300);
- calls, e-mails and meetings that happened in the 14 and 30 days before the moment (tasks are left out: a
  task's date is when it is due, not something done);
- the moment's month within its quarter (1, 2, 3): deals are pushed to close at a quarter's end.

Closes are read from the history too (a closed state that does not continue another), with the owner of the
state, so an owner changed or a deal reopened after the moment does not reach back. A deal's company and
source are not kept in the history: their current values are used (they rarely change once a deal is open).

Training examples (`training_examples`) are closed deals scored at the month starts (company time zone) at
which they were open, at most MAX_MOMENTS_PER_DEAL of them per deal (a seeded choice), and a deal that was
open at no month start is scored once at a seeded moment of its open life. Why: the model scores the deals
open on a given day, and a deal open for six months is among them six times as often as one open for one;
month starts sample that population, and cover each deal young and old. The cap keeps very old deals from
dominating; the seeded moment keeps deals that closed within a month from being left out altogether. The
seed is derived from the deal's id, so a deal's moments do not depend on which other deals exist.

Everything is read with one query per table and chunk of CHUNK_DEALS deals (the chunk's ids in a temporary table
the queries join), the database turning moments into seconds since the epoch and amounts into company currency, and
the numbers come straight into numpy arrays (core.arrays.fetch_numbers), not a Python tuple per row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Case, F, FloatField, Q, When
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce

from quota.activities.models import Activity, ActivityKind
from quota.core.arrays import fetch_numbers
from quota.core.calendar import company_zone
from quota.crm.choices import DealStatus
from quota.crm.models import Deal, DealStageChange, DealState, LeadSource, Stage
from quota.kpi.expressions import DateNumber, EpochSeconds
from quota.sales.models import OfferLine, Product

CHUNK_DEALS = 250_000  # a whole-table scan per read and chunk: few chunks; their arrays stay some 100 MB
WANTED_DEALS = "forecasting_wanted_deals"  # the temporary table of the deals read (see _wanted_deals)
NO_DAY = -(10**6)  # the day number read for no expected close date
MAX_MOMENTS_PER_DEAL = 6
PRIOR_WEIGHT = 10.0
NONE = "(none)"
DAY = 86_400

# The model's inputs, in this order. Numbers are transformed here (logs of counts and amounts) so the model
# and its factors see the same values.
NUMERIC = (
    "age_days",  # log(1 + days since created)
    "days_in_stage",  # log(1 + days since the last stage change)
    "amount",  # log(1 + amount in company currency); 0 when not known
    "amount_unknown",  # 1 when the amount was not known then
    "existing_customer",  # 1 when the company had a won deal before
    "owner_win_rate",  # smoothed share of the owner's closed deals that were won
    "owner_closed_deals",  # log(1 + deals the owner had closed)
    "activities_14d",  # log(1 + calls, e-mails, meetings in the 14 days before)
    "activities_30d",  # the same over 30 days
    "days_to_expected_close",  # expected close date - moment, in days, within -365..365; 0 when none
    "no_expected_close",  # 1 when there was no expected close date
)
CATEGORICAL = ("stage", "source", "product", "month_of_quarter")  # the last: 1, 2 or 3, of the moment
# How the inputs are shown as factors: an indicator belongs with the number it qualifies.
FACTOR_OF = {"amount_unknown": "amount", "no_expected_close": "days_to_expected_close", "activities_30d": "activities_14d"}


@dataclass
class Features:
    """One row per (deal, moment): the inputs, the stage's own probability then (the baseline) and labels."""

    deal_id: np.ndarray  # int64
    moment: np.ndarray  # int64 seconds since the epoch
    numeric: np.ndarray  # float64, (n, len(NUMERIC))
    categorical: np.ndarray  # object (str), (n, len(CATEGORICAL))
    stage_probability: np.ndarray  # float64, 0..1: the stage's win probability (the baseline's estimate)
    won: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # training only: the outcome
    closed_at: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # training only

    def __len__(self) -> int:
        return len(self.deal_id)

    def take(self, index: np.ndarray) -> Features:
        return Features(
            deal_id=self.deal_id[index],
            moment=self.moment[index],
            numeric=self.numeric[index],
            categorical=self.categorical[index],
            stage_probability=self.stage_probability[index],
            won=self.won[index] if len(self.won) else self.won,
            closed_at=self.closed_at[index] if len(self.closed_at) else self.closed_at,
        )


def seconds(moment: dt.datetime) -> int:
    return int(moment.timestamp())


# ---- training examples -----------------------------------------------------------------------------------------


def training_examples(
    *, closed_before: dt.datetime | None = None, max_deals: int | None = None, using: str = DEFAULT_DB_ALIAS
) -> Features:
    """Closed deals (before `closed_before`, if given) at the moments they are scored at (see the module's docstring).

    With `max_deals`, a seeded sample of that many deals (by a hash of their id) is taken, for the largest
    companies: the model does not need a million deals to learn two dozen coefficients.
    """
    closed = Deal.objects.using(using).filter(status__in=[DealStatus.WON, DealStatus.LOST], closed_at__isnull=False)
    if closed_before is not None:
        closed = closed.filter(closed_at__lt=closed_before)
    rows = np.array(
        [
            (pk, seconds(created), seconds(closed_at), status == DealStatus.WON)  # type: ignore[arg-type]  # filtered
            for pk, created, closed_at, status in closed.order_by()
            .values_list("pk", "created_at", "closed_at", "status")
            .iterator(chunk_size=50_000)
        ],
        dtype=np.int64,
    ).reshape(-1, 4)
    rows = rows[np.argsort(rows[:, 0])]
    deal_id, created, closed_at, won = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3].astype(bool)
    if max_deals is not None and len(deal_id) > max_deals:
        keep = np.sort(np.argsort(_hash(deal_id, 0))[:max_deals])
        deal_id, created, closed_at, won = deal_id[keep], created[keep], closed_at[keep], won[keep]
    example_deal, example_at = scoring_moments(deal_id, created, closed_at)
    position = np.searchsorted(deal_id, example_deal)
    result = features(example_deal, example_at, using=using)
    result.won = won[position]
    result.closed_at = closed_at[position]
    return result


def scoring_moments(deal_id: np.ndarray, created: np.ndarray, closed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(deal, moment) pairs, sorted by deal: month starts strictly inside each deal's open life, at most
    MAX_MOMENTS_PER_DEAL per deal (a seeded choice); one seeded moment for a deal open at no month start."""
    if not len(deal_id):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.argsort(deal_id)
    deal_id, created, closed = deal_id[order], created[order], closed[order]
    pairs_deal, pairs_at = [], []
    for boundary in _month_starts(int(created.min()), int(closed.max())):
        inside = (created < boundary) & (boundary < closed)
        pairs_deal.append(deal_id[inside])
        pairs_at.append(np.full(int(inside.sum()), boundary, dtype=np.int64))
    example_deal = np.concatenate(pairs_deal) if pairs_deal else np.zeros(0, dtype=np.int64)
    example_at = np.concatenate(pairs_at) if pairs_at else np.zeros(0, dtype=np.int64)
    # The cap: keep the MAX_MOMENTS_PER_DEAL moments of each deal with the lowest seeded priority.
    priority = _hash(example_deal, example_at)
    order = np.lexsort((priority, example_deal))
    example_deal, example_at = example_deal[order], example_at[order]
    first = np.searchsorted(example_deal, example_deal, side="left")
    rank = np.arange(len(example_deal)) - first
    keep = rank < MAX_MOMENTS_PER_DEAL
    example_deal, example_at = example_deal[keep], example_at[keep]
    # Deals open at no month start: one moment within their open life.
    without = ~np.isin(deal_id, example_deal)
    fraction = _hash(deal_id[without], 1) / float(2**32)
    span = np.maximum(closed[without] - created[without], 1)
    moment = created[without] + np.minimum((fraction * span).astype(np.int64), span - 1)
    example_deal = np.concatenate([example_deal, deal_id[without]])
    example_at = np.concatenate([example_at, moment])
    order = np.lexsort((example_at, example_deal))
    return example_deal[order], example_at[order]


def _month_starts(start: int, end: int) -> list[int]:
    zone = company_zone()
    day = dt.datetime.fromtimestamp(start, tz=zone).date().replace(day=1)
    last = dt.datetime.fromtimestamp(end, tz=zone).date()
    starts = []
    while day <= last:
        starts.append(seconds(dt.datetime.combine(day, dt.time(), tzinfo=zone)))
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return starts


def _hash(values: np.ndarray, salt: Any) -> np.ndarray:
    """A deterministic pseudo-random number in 0..2**32 per value (and salt): the same deal, the same draw."""
    with np.errstate(over="ignore"):  # multiplication modulo 2**64 is the point (splitmix64's mixing)
        salted = np.uint64(0x9E3779B97F4A7C15) * (np.asarray(salt, dtype=np.uint64) + np.uint64(1))
        mixed = (np.asarray(values, dtype=np.uint64) + salted) * np.uint64(0xBF58476D1CE4E5B9)
        mixed ^= mixed >> np.uint64(31)
        mixed *= np.uint64(0x94D049BB133111EB)
        mixed ^= mixed >> np.uint64(29)
    return (mixed >> np.uint64(32)).astype(np.int64)


# ---- features at moments ---------------------------------------------------------------------------------------


def features(
    deal_ids: Sequence[int] | np.ndarray, moments: Sequence[int] | np.ndarray, *, using: str = DEFAULT_DB_ALIAS
) -> Features:
    """The features of each deal at its moment (seconds since the epoch), in the order given.

    A deal's moment must fall in its life (after it was created); a pair before that has no state and gets
    the first one, which is the model's problem to avoid, not this function's.
    """
    deal_ids = np.asarray(deal_ids, dtype=np.int64)
    moments = np.asarray(moments, dtype=np.int64)
    n = len(deal_ids)
    numeric = np.zeros((n, len(NUMERIC)), dtype=np.float64)
    categorical = np.full((n, len(CATEGORICAL)), NONE, dtype=object)
    stage_probability = np.zeros(n, dtype=np.float64)
    if not n:
        return Features(deal_ids, moments, numeric, categorical, stage_probability)
    closes = _Closes.read(until=int(moments.max()), using=using)
    probabilities = dict(Stage.objects.using(using).values_list("pk", "probability"))
    order = np.argsort(deal_ids, kind="stable")
    sorted_ids = deal_ids[order]
    unique = np.unique(deal_ids)
    with _wanted_deals(using) as want:
        for lo in range(0, len(unique), CHUNK_DEALS):
            chunk = unique[lo : lo + CHUNK_DEALS]
            wanted = want(chunk)
            rows = order[np.searchsorted(sorted_ids, chunk[0], "left") : np.searchsorted(sorted_ids, chunk[-1], "right")]
            _fill(rows, wanted, deal_ids, moments, numeric, categorical, stage_probability, closes, probabilities, using)
    return Features(deal_ids, moments, numeric, categorical, stage_probability)


@contextmanager
def _wanted_deals(using: str) -> Iterator[Callable[[np.ndarray], RawSQL]]:
    """A temporary table of the deals whose records are read: each query joins it (whatever its size) instead of
    listing the ids in its text, which PostgreSQL plans badly past a few thousand and refuses past 65,535.

    Yields `want(ids)`, which fills the table with `ids` (and only them) and returns the subquery of its ids.
    """
    connection = connections[using]
    table = f"{'pg_temp' if connection.vendor == 'postgresql' else 'temp'}.{WANTED_DEALS}"  # never a real table
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TEMPORARY TABLE {WANTED_DEALS} (id bigint PRIMARY KEY)")

    def want(ids: np.ndarray) -> RawSQL:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table}")
            if connection.vendor == "postgresql":
                cursor.execute(f"INSERT INTO {table} (id) SELECT unnest(%s::bigint[])", [ids.tolist()])
                cursor.execute(f"ANALYZE {table}")  # so the planner knows how many deals it joins
            else:
                cursor.executemany(f"INSERT INTO {table} (id) VALUES (%s)", [(i,) for i in ids.tolist()])
        return RawSQL(f"SELECT id FROM {table}", [])  # a fixed table name, no input

    try:
        yield want
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")


def _fill(
    rows: np.ndarray,
    wanted: RawSQL,
    deal_ids: np.ndarray,
    moments: np.ndarray,
    numeric: np.ndarray,
    categorical: np.ndarray,
    stage_probability: np.ndarray,
    closes: _Closes,
    probabilities: dict[int, int],
    using: str,
) -> None:
    """The features of `rows`, whose deals are the `wanted` ones; every read comes back as numbers into arrays."""
    ids, at = deal_ids[rows], moments[rows]
    latest = int(at.max())
    column = {name: i for i, name in enumerate(NUMERIC)}

    deals = fetch_numbers(
        Deal.objects.using(using)
        .filter(pk__in=wanted)
        .order_by("pk")
        .annotate(created=EpochSeconds("created_at"), of_company=Coalesce("company_id", 0), by_source=Coalesce("source_id", 0))
        .values_list("pk", "created", "of_company", "by_source"),
        using,
        columns=4,
    ).astype(np.int64)
    deals = deals[np.argsort(deals[:, 0])]
    at_deal = np.searchsorted(deals[:, 0], ids)
    created = deals[at_deal, 1]
    company = deals[at_deal, 2]
    source_keys = {pk: key or NONE for pk, key in LeadSource.objects.using(using).values_list("pk", "key")}
    source = _mapped(deals[at_deal, 3], source_keys)
    products = dict(
        Deal.objects.using(using)
        .filter(pk__in=wanted, custom__has_key="product")
        .values_list("pk", KeyTextTransform("product", "custom"))
    )
    custom_product = _mapped(ids, {pk: value or "" for pk, value in products.items()}, default="")

    # The state valid at the moment: the last one of the deal that began by then.
    states = fetch_numbers(
        DealState.objects.using(using)
        .filter(deal_id__in=wanted, valid_from__lte=_datetime(latest))
        .order_by("deal_id", "valid_from", "id")
        .annotate(
            began=EpochSeconds("valid_from"),
            value=Coalesce(Cast(F("amount") * F("exchange_rate"), FloatField()), 0.0),
            unknown=Case(When(amount__isnull=True, then=1), default=0),
            expected=Coalesce(DateNumber("expected_close_date"), NO_DAY),
            owned=Coalesce("owner_id", 0),
        )
        .values_list("deal_id", "began", "stage_id", "value", "unknown", "expected", "owned"),
        using,
        columns=7,
    )
    state_key = _key(states[:, 0], states[:, 1])
    states = states[np.argsort(state_key, kind="stable")]  # already in order: the database's, kept among equals
    state_key = np.sort(state_key)
    found = np.searchsorted(state_key, _key(ids, at), side="right") - 1
    # A moment before the deal's first state (before it was created) takes that first state.
    too_early = (found < 0) | ((state_key[np.maximum(found, 0)] >> SHIFT) != ids) if len(states) else found < 0
    found = np.clip(np.where(too_early, found + 1, found), 0, max(len(states) - 1, 0))
    state = states[found] if len(states) else np.zeros((0, 7))
    stage = state[:, 2].astype(np.int64)
    amount = np.where(state[:, 4] > 0, np.nan, state[:, 3])
    expected_day = state[:, 5].astype(np.int64)
    has_expected = expected_day != NO_DAY
    expected = _local_midnights(expected_day)
    owner = state[:, 6].astype(np.int64)

    # Days in stage: since the last stage change by then (its creation if none).
    changes = fetch_numbers(
        DealStageChange.objects.using(using)
        .filter(deal_id__in=wanted, changed_at__lte=_datetime(latest))
        .order_by()
        .annotate(changed=EpochSeconds("changed_at"))
        .values_list("deal_id", "changed"),
        using,
        columns=2,
    )
    change_key = np.sort(_key(changes[:, 0], changes[:, 1]))
    last_change = np.searchsorted(change_key, _key(ids, at), side="right") - 1
    changed = np.full(len(ids), np.iinfo(np.int64).min)
    has_change = last_change >= 0
    has_change[has_change] = (change_key[last_change[has_change]] >> SHIFT) == ids[has_change]
    changed[has_change] = (change_key[last_change[has_change]] & MASK) - OFFSET
    in_stage_since = np.maximum(created, changed)

    # Activities done in the 14 and 30 days before.
    done = fetch_numbers(
        Activity.objects.using(using)
        .filter(deal_id__in=wanted, occurred_at__lt=_datetime(latest), occurred_at__gte=_datetime(int(at.min()) - 30 * DAY))
        .exclude(kind=ActivityKind.TASK)
        .order_by()
        .annotate(occurred=EpochSeconds("occurred_at"))
        .values_list("deal_id", "occurred"),
        using,
        columns=2,
    )
    activity_key = np.sort(_key(done[:, 0], done[:, 1]))
    until = np.searchsorted(activity_key, _key(ids, at), side="left")
    recent = {days: until - np.searchsorted(activity_key, _key(ids, at - days * DAY), side="left") for days in (14, 30)}

    # Product: custom.product, else the first line of the first offer made by then.
    product = custom_product.copy()
    need = product == ""
    if need.any():
        lines = fetch_numbers(
            OfferLine.objects.using(using)
            .filter(offer__deal_id__in=wanted, offer__created_at__lte=_datetime(latest))
            .order_by("offer__deal_id", "offer__created_at", "offer_id", "id")
            .annotate(deal=F("offer__deal_id"), offered=EpochSeconds("offer__created_at"), item=Coalesce("product_id", 0))
            .values_list("deal", "offered", "item"),
            using,
            columns=3,
        ).astype(np.int64)
        line_key = _key(lines[:, 0], lines[:, 1])
        lines = lines[np.argsort(line_key, kind="stable")]  # already in order: the database's, kept among equals
        line_key = np.sort(line_key)
        first_of_deal = np.searchsorted(line_key, _key(ids[need], np.full(need.sum(), -OFFSET + 1)), side="left")
        known = first_of_deal < np.searchsorted(line_key, _key(ids[need], at[need]), side="right")
        names = dict(Product.objects.using(using).filter(pk__in=np.unique(lines[:, 2]).tolist()).values_list("pk", "name"))
        line_names = np.array([*_mapped(lines[:, 2], names, default=None), NONE], dtype=object)
        product[need] = np.where(known, line_names[np.minimum(first_of_deal, len(lines))], NONE)
    product[product == ""] = NONE

    wins, closed_count, prior = closes.owner_record(owner, at)
    numeric[rows, column["age_days"]] = np.log1p(np.maximum(at - created, 0) / DAY)
    numeric[rows, column["days_in_stage"]] = np.log1p(np.maximum(at - in_stage_since, 0) / DAY)
    numeric[rows, column["amount"]] = np.where(np.isnan(amount), 0.0, np.log1p(np.maximum(np.nan_to_num(amount), 0)))
    numeric[rows, column["amount_unknown"]] = np.isnan(amount)
    numeric[rows, column["existing_customer"]] = closes.customer_before(company, at)
    numeric[rows, column["owner_win_rate"]] = (wins + PRIOR_WEIGHT * prior) / (closed_count + PRIOR_WEIGHT)
    numeric[rows, column["owner_closed_deals"]] = np.log1p(closed_count)
    numeric[rows, column["activities_14d"]] = np.log1p(recent[14])
    numeric[rows, column["activities_30d"]] = np.log1p(recent[30])
    numeric[rows, column["days_to_expected_close"]] = np.where(has_expected, np.clip((expected - at) / DAY, -365, 365), 0.0)
    numeric[rows, column["no_expected_close"]] = ~has_expected
    categorical[rows, 0] = _mapped(stage, {s: str(s) for s in np.unique(stage).tolist()})
    categorical[rows, 1] = source
    categorical[rows, 2] = product
    categorical[rows, 3] = _month_of_quarter(at)
    stage_probability[rows] = _mapped(stage, probabilities, default=0).astype(np.float64) / 100


def _mapped(keys: np.ndarray, values: dict[Any, Any], default: Any = NONE) -> np.ndarray:
    """`values[key]` for each key (`default` for the missing), looked up once per distinct key."""
    distinct, index = np.unique(np.asarray(keys), return_inverse=True)
    return np.array([values.get(key, default) for key in distinct.tolist()] + [default], dtype=object)[index.reshape(-1)]


def _local_midnights(days: np.ndarray) -> np.ndarray:
    """Seconds since the epoch of the company's midnight starting each day (days since 1970-01-01; 0 for NO_DAY)."""
    zone = company_zone()
    distinct, index = np.unique(days, return_inverse=True)
    epoch = dt.date(1970, 1, 1)
    starts = [
        seconds(dt.datetime.combine(epoch + dt.timedelta(days=day), dt.time(), tzinfo=zone)) if day != NO_DAY else 0
        for day in distinct.tolist()
    ]
    return np.array([*starts, 0], dtype=np.int64)[index.reshape(-1)]


def _month_of_quarter(at: np.ndarray) -> np.ndarray:
    """ "1", "2" or "3": the moment's month within its quarter, in the company's time zone (quarter ends push deals)."""
    zone = company_zone()
    distinct = np.unique(at).tolist()
    months = {t: str((dt.datetime.fromtimestamp(t, tz=zone).month - 1) % 3 + 1) for t in distinct}
    return _mapped(at, months)


# Deal and moment in one sortable int64: the deal id in the high bits, seconds (offset to be positive) in the low.
SHIFT = 34
OFFSET = 2**33
MASK = 2**SHIFT - 1


def _key(deal: np.ndarray, at: np.ndarray) -> np.ndarray:
    return (np.asarray(deal, dtype=np.int64) << SHIFT) | (np.asarray(at, dtype=np.int64) + OFFSET)


def _datetime(at: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(at, tz=dt.UTC)


@dataclass
class _Closes:
    """Every close before a moment, as the history records it: when, won or lost, whose, which company's."""

    at: np.ndarray  # sorted
    owner_key: np.ndarray  # (owner, at) keys, sorted
    owner_wins: np.ndarray  # cumulative wins along owner_key, with a leading 0
    company_key: np.ndarray  # (company, first won at), sorted
    wins_by_time: np.ndarray  # cumulative wins along `at`, with a leading 0

    @classmethod
    def read(cls, *, until: int, using: str) -> _Closes:
        """Closed states that begun before `until` and do not continue a closed state (an edit after the close)."""
        rows = fetch_numbers(
            DealState.objects.using(using)
            .filter(~Q(status=DealStatus.OPEN), valid_from__lt=_datetime(until))
            .order_by("deal_id", "valid_from", "id")
            .annotate(
                began=EpochSeconds("valid_from"),
                ended=Coalesce(EpochSeconds("valid_to"), -1),
                won=Case(When(status=DealStatus.WON, then=1), default=0),
                owned=Coalesce("owner_id", 0),
                company=Coalesce("deal__company_id", 0),
            )
            .values_list("deal_id", "began", "ended", "won", "owned", "company"),
            using,
            columns=6,
        ).astype(np.int64)
        rows = rows[np.argsort(_key(rows[:, 0], rows[:, 1]), kind="stable")]  # already in order: kept among equals
        deal, start, end = rows[:, 0], rows[:, 1], rows[:, 2]
        continues = np.zeros(len(rows), dtype=bool)
        continues[1:] = (deal[1:] == deal[:-1]) & (start[1:] == end[:-1])
        rows = rows[~continues]
        at, won, owner, company = rows[:, 1], rows[:, 3].astype(bool), rows[:, 4], rows[:, 5]
        by_time = np.argsort(at, kind="stable")
        owner_key = _key(owner, at)
        by_owner = np.argsort(owner_key, kind="stable")
        # Each company's first win: the earliest of its won closes.
        won_company, won_at = company[won & (company > 0)], at[won & (company > 0)]
        by_company = np.lexsort((won_at, won_company))
        won_company, won_at = won_company[by_company], won_at[by_company]
        first = np.ones(len(won_company), dtype=bool)
        first[1:] = won_company[1:] != won_company[:-1]
        company_key = np.sort(_key(won_company[first], won_at[first]))
        return cls(
            at=at[by_time],
            owner_key=owner_key[by_owner],
            owner_wins=np.concatenate([[0], np.cumsum(won[by_owner])]),
            company_key=company_key,
            wins_by_time=np.concatenate([[0], np.cumsum(won[by_time])]),
        )

    def owner_record(self, owner: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Wins and closes of each owner before each moment, and the company's win rate before it (the prior)."""
        start = np.searchsorted(self.owner_key, _key(owner, np.full(len(owner), -OFFSET)), side="left")
        stop = np.searchsorted(self.owner_key, _key(owner, at), side="left")
        wins = (self.owner_wins[stop] - self.owner_wins[start]).astype(np.float64)
        closed = (stop - start).astype(np.float64)
        before = np.searchsorted(self.at, at, side="left")
        prior = (self.wins_by_time[before] + 1.0) / (before + 2.0)  # Laplace: 0.5 before the first close
        return wins, closed, prior

    def customer_before(self, company: np.ndarray, at: np.ndarray) -> np.ndarray:
        """1 where the company had a deal won before the moment (0 for deals without a company)."""
        first = np.searchsorted(self.company_key, _key(company, np.full(len(company), -OFFSET)), side="left")
        before = np.searchsorted(self.company_key, _key(company, at), side="left")
        return ((before > first) & (company > 0)).astype(np.float64)
