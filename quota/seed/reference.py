"""What the seed reads from the database before generating: the pipeline, lead sources, loss
reasons (all created by the crm migrations), and exchange rates for the foreign currencies it uses."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from quota.core.models import ExchangeRate
from quota.core.money import company_currency
from quota.crm.models import LeadSource, LossReason, Pipeline
from quota.seed.clock import HISTORY_DAYS, LEAD_IN_DAYS, Clock, epoch_day
from quota.seed.randomness import stream

# The five built-in sources (crm migration 0003) the generated leads and deals come from.
SOURCE_KEYS = ("website", "social", "own_prospecting", "referral", "other")
# Roughly what one unit of each currency is worth in euros, to start the rate walks from.
EURO_VALUE = {
    "EUR": 1.0, "USD": 0.92, "GBP": 1.17, "PLN": 0.23, "RUB": 0.0102, "IRR": 0.0000218, "CHF": 1.04, "CZK": 0.040,
    "SEK": 0.087, "NOK": 0.086, "DKK": 0.134, "UAH": 0.023, "TRY": 0.028, "AED": 0.25, "CAD": 0.68, "AUD": 0.61,
    "JPY": 0.0062, "CNY": 0.127,
}  # fmt: skip
RATE_PLACES = 8


class MissingReferenceData(Exception):
    """The migrations' built-in rows are missing (the database was not migrated, or they were deleted)."""


@dataclass(frozen=True)
class Rates:
    """Exchange rates (company currency per unit, as 1e-8 units) valid from given days, per currency code."""

    currencies: tuple[str, ...]  # index 0 is the company currency (rate 1)
    valid_from: tuple[np.ndarray, ...]  # epoch days, ascending, per currency
    scaled: tuple[np.ndarray, ...]  # rate * 10**RATE_PLACES, per currency

    def on(self, currency: np.ndarray, days: np.ndarray) -> np.ndarray:
        """The scaled rate valid on each day for each currency index (like core.money.rate_on)."""
        out = np.full(len(days), 10**RATE_PLACES, dtype=np.int64)
        for code in range(1, len(self.currencies)):
            mask = currency == code
            if mask.any():
                at = np.searchsorted(self.valid_from[code], days[mask], side="right") - 1
                out[mask] = self.scaled[code][at.clip(0)]
        return out


@dataclass(frozen=True)
class Reference:
    pipeline_id: int
    stage_ids: tuple[int, ...]  # by position
    stage_probabilities: tuple[int, ...]
    source_ids: tuple[int, ...]  # aligned with SOURCE_KEYS
    loss_reason_ids: tuple[int, ...]
    loss_reason_names: tuple[str, ...]
    loss_reason_follow_up_days: tuple[int | None, ...]
    rates: Rates
    euro: float  # one euro in the company currency: the generator's prices are set in euros

    @property
    def currency(self) -> str:
        return self.rates.currencies[0]

    @property
    def proposal_stage(self) -> int:
        """Index of the first stage where a quote goes out: the first with at least a 50% win chance."""
        return next((i for i, p in enumerate(self.stage_probabilities) if p >= 50), len(self.stage_ids) - 1)


def load_reference(clock: Clock, seed: int) -> Reference:
    pipeline = Pipeline.objects.filter(is_default=True).first()
    if pipeline is None:
        raise MissingReferenceData("there is no default pipeline: run `quota migrate` first")
    stages = list(pipeline.stages.order_by("position").values_list("id", "probability"))
    if not stages:
        raise MissingReferenceData(f"the default pipeline {pipeline.name!r} has no stages")
    sources = dict(LeadSource.objects.filter(key__in=SOURCE_KEYS).values_list("key", "id"))
    missing = [key for key in SOURCE_KEYS if key not in sources]
    if missing:
        raise MissingReferenceData(f"the built-in lead sources {', '.join(missing)} are missing: run `quota migrate`")
    reasons = list(LossReason.objects.filter(is_active=True).order_by("id").values_list("id", "name", "follow_up_after_days"))
    if not reasons:
        raise MissingReferenceData("there are no active loss reasons: run `quota migrate`")
    return Reference(
        pipeline_id=pipeline.pk,
        stage_ids=tuple(s[0] for s in stages),
        stage_probabilities=tuple(s[1] for s in stages),
        source_ids=tuple(sources[key] for key in SOURCE_KEYS),
        loss_reason_ids=tuple(r[0] for r in reasons),
        loss_reason_names=tuple(r[1] for r in reasons),
        loss_reason_follow_up_days=tuple(r[2] for r in reasons),
        rates=ensure_rates(clock, seed),
        euro=1 / EURO_VALUE.get(company_currency(), 1.0),
    )


def foreign_currencies(home: str) -> tuple[str, ...]:
    """Two currencies some customers pay in: the first two of USD, EUR, GBP that are not the company's."""
    return tuple(c for c in ("USD", "EUR", "GBP") if c != home)[:2]


def ensure_rates(clock: Clock, seed: int) -> Rates:
    """Monthly rates for the foreign currencies over the history (added where missing), read back as arrays."""
    home = company_currency()
    currencies = (home, *foreign_currencies(home)) if home in EURO_VALUE else (home,)
    rng = stream(seed, "exchange-rates")
    first = clock.today - dt.timedelta(days=HISTORY_DAYS + LEAD_IN_DAYS + 31)
    count = (clock.today.year - first.year) * 12 + clock.today.month - first.month + 1
    months = [dt.date(first.year + (first.month - 1 + i) // 12, (first.month - 1 + i) % 12 + 1, 1) for i in range(count)]
    new = []
    for code in currencies[1:]:
        walk = np.exp(np.cumsum(rng.normal(0, 0.012, len(months))))
        start = EURO_VALUE[code] / EURO_VALUE[home]
        for month, factor in zip(months, walk.tolist(), strict=True):
            new.append(ExchangeRate(currency=code, valid_from=month, rate=Decimal(f"{start * factor:.{RATE_PLACES}f}")))
    ExchangeRate.objects.bulk_create(new, ignore_conflicts=True)
    valid_from: list[np.ndarray] = [np.zeros(1, dtype=np.int64)]
    scaled: list[np.ndarray] = [np.array([10**RATE_PLACES], dtype=np.int64)]
    for code in currencies[1:]:
        rows = list(ExchangeRate.objects.filter(currency=code).order_by("valid_from").values_list("valid_from", "rate"))
        valid_from.append(np.array([epoch_day(d) for d, _ in rows], dtype=np.int64))
        scaled.append(np.array([int(r.scaleb(RATE_PLACES)) for _, r in rows], dtype=np.int64))
    return Rates(currencies, tuple(valid_from), tuple(scaled))
