"""Small closed-deal worlds for the learning tests, written in bulk the way an import writes them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import numpy as np

from quota.crm.choices import DealStatus
from quota.crm.history import initial_states
from quota.crm.models import Deal, DealStageChange, DealState, LeadSource
from quota.testing.factories import CompanyFactory, UserFactory, default_pipeline, lead_source, loss_reason

START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)

# (deal number, rng) -> (source key, won)
Outcome = Callable[[int, np.random.Generator], tuple[str, bool]]


def closed_deals(n: int, outcome: Outcome, *, seed: int = 0, days: int = 600, open_deals: int = 0) -> list[Deal]:
    """`n` deals created over `days` days from START, each closed 5 to 120 days later as `outcome` says,
    plus `open_deals` still open; with their states and stage changes (one query per table)."""
    rng = np.random.default_rng(seed)
    owners = [UserFactory() for _ in range(3)]
    companies = [CompanyFactory(owner=owners[0]) for _ in range(8)]
    pipeline = default_pipeline()
    stage = pipeline.stages.order_by("position").first()
    reason = loss_reason()
    sources: dict[str, LeadSource] = {}
    deals = []
    for i in range(n + open_deals):
        source_key, won = outcome(i, rng)
        source = sources.setdefault(source_key, lead_source(source_key))
        created = START + dt.timedelta(days=float(rng.uniform(0, days)))
        closed = created + dt.timedelta(days=float(rng.uniform(5, 120)))
        is_open = i >= n
        deals.append(
            Deal(
                title=f"Deal {i}",
                owner=owners[i % len(owners)],
                company=companies[int(rng.integers(len(companies)))],
                pipeline=pipeline,
                stage=stage,
                source=source,
                amount=Decimal(int(rng.integers(1_000, 50_000))),
                currency="EUR",
                status=DealStatus.OPEN if is_open else DealStatus.WON if won else DealStatus.LOST,
                loss_reason=None if is_open or won else reason,
                created_at=created,
                stage_changed_at=created,
                closed_at=None if is_open else closed,
            )
        )
    Deal.objects.bulk_create(deals)
    DealState.objects.bulk_create([state for deal in deals for state in initial_states(deal)])
    changes = []
    for deal in deals:
        changes.append(DealStageChange(deal=deal, to_stage=deal.stage, to_status=DealStatus.OPEN, changed_at=deal.created_at))
        if deal.closed_at is not None:
            changes.append(
                DealStageChange(
                    deal=deal,
                    from_stage=deal.stage,
                    to_stage=deal.stage,
                    from_status=DealStatus.OPEN,
                    to_status=deal.status,
                    changed_at=deal.closed_at,
                )
            )
    DealStageChange.objects.bulk_create(changes)
    return deals


def by_source(i: int, rng: np.random.Generator) -> tuple[str, bool]:
    """Referrals are mostly won, website deals mostly lost: the outcome depends on a feature."""
    source = "referral" if rng.random() < 0.5 else "website"
    return source, bool(rng.random() < (0.85 if source == "referral" else 0.15))


def coin(share_won: float) -> Outcome:
    """An outcome that depends on nothing: won with probability `share_won`."""
    return lambda i, rng: ("website", bool(rng.random() < share_won))
