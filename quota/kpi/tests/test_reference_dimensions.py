"""Grouping and filtering by custom fields and company attributes, on random deals, equals a plain-Python count.

Each example builds companies (size, industry, a custom tier) and deals (a custom contract and seat count,
some blank or missing), evaluates won revenue and won deals by month grouped by a dimension - and again
narrowed to a segment - and compares every value with sums made here from the same records: labels, bands
and the blank group are written out here, not taken from kpi.dimensions.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from quota.crm.models import Company, CustomField, Deal
from quota.kpi.selectors import kpi_values
from quota.kpi.tests.reference import ZONE_NAME, local_day
from quota.kpi.tests.worlds import amounts, rates
from quota.testing.factories import UserFactory, default_pipeline, loss_reason

START, END = dt.date(2024, 1, 1), dt.date(2024, 6, 30)
BLANK = "(blank)"
CONTRACTS = ["monthly", "annual", "two_years"]
EXAMPLES = settings(max_examples=15, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# The bands written out: employees 1-9, 10-49 ...; custom numbers in decades from 0, below 0 one band.
SIZE_BANDS = [(1, 10, "1–9"), (10, 50, "10–49"), (50, 250, "50–249"), (250, 1000, "250–999"), (1000, None, "1,000 or more")]
SEAT_BANDS = [
    (None, 0, "below 0"),
    (0, 1, "0 to under 1"),
    (1, 10, "1 to under 10"),
    (10, 100, "10 to under 100"),
    (100, 1000, "100 to under 1,000"),
    (1000, None, "1,000 or more"),
]


def band(value: Any, bands: list[tuple[Any, Any, str]]) -> str:
    if value is None:
        return BLANK
    for low, high, label in bands:
        if (low is None or value >= low) and (high is None or value < high):
            return label
    return BLANK  # below the first size band (0 employees): no band


company_specs = st.fixed_dictionaries(
    {
        "employees": st.none() | st.sampled_from([0, 1, 9, 10, 49, 50, 249, 250, 999, 1000, 50_000]),
        "industry": st.sampled_from(["", "Retail", "Energy"]),
        "tier": st.sampled_from([None, "", "gold", "silver"]),
    }
)
deal_specs = st.fixed_dictionaries(
    {
        "closed": st.datetimes(dt.datetime(2023, 12, 25), dt.datetime(2024, 7, 5), timezones=st.just(dt.UTC)),
        "status": st.sampled_from(["won", "won", "lost", "open"]),
        "company": st.none() | st.integers(0, 3),
        "contract": st.sampled_from([None, "", *CONTRACTS]),
        "seats": st.none() | st.sampled_from([-3, 0, 0.5, 1, 9.99, 10, 99, 100, 5000]),
        "amount": amounts,
        "rate": rates,
    }
)


def build(companies: list[dict], deals: list[dict]) -> list[dict]:
    """The records, and each deal's values as the reference reads them."""
    owner = UserFactory()
    pipeline = default_pipeline()
    stage = pipeline.stages.order_by("position").first()
    reason = loss_reason()
    rows = [
        Company(
            name=f"C{index}",
            owner=owner,
            employees=spec["employees"],
            industry=spec["industry"],
            custom={} if spec["tier"] is None else {"tier": spec["tier"]},
        )
        for index, spec in enumerate(companies)
    ]
    Company.objects.bulk_create(rows)
    seen = []
    made = []
    for spec in deals:
        custom: dict[str, Any] = {}
        if spec["contract"] is not None:
            custom["contract"] = spec["contract"]
        if spec["seats"] is not None:
            custom["seats"] = spec["seats"]
        company = rows[spec["company"]] if spec["company"] is not None and spec["company"] < len(rows) else None
        closed = None if spec["status"] == "open" else spec["closed"]
        made.append(
            Deal(
                title="d",
                owner=owner,
                pipeline=pipeline,
                stage=stage,
                currency="EUR",
                stage_changed_at=spec["closed"],
                company=company,
                amount=spec["amount"],
                exchange_rate=spec["rate"],
                status=spec["status"],
                created_at=spec["closed"] - dt.timedelta(days=3),
                closed_at=closed,
                custom=custom,
                loss_reason=reason if spec["status"] == "lost" else None,
            )
        )
        info = companies[spec["company"]] if company is not None else {"employees": None, "industry": "", "tier": None}
        seen.append(
            {
                "won": spec["status"] == "won",
                "day": local_day(spec["closed"]),
                "money": spec["amount"] * spec["rate"],
                "custom.contract": spec["contract"] or BLANK,
                "custom.seats": band(spec["seats"], SEAT_BANDS),
                "company.size": band(info["employees"], SIZE_BANDS),
                "company.industry": info["industry"] or BLANK,
                "company.custom.tier": info["tier"] or BLANK,
            }
        )
    Deal.objects.bulk_create(made)
    return seen


def expected(seen: list[dict], by: str, where: dict[str, str]) -> dict[tuple[dt.date, str], tuple[Decimal, int]]:
    totals: dict[tuple[dt.date, str], list] = defaultdict(lambda: [Decimal(0), 0])
    for deal in seen:
        if not deal["won"] or not START <= deal["day"] <= END:
            continue
        if any(deal[name] != value for name, value in where.items()):
            continue
        cell = totals[(deal["day"].replace(day=1), deal[by])]
        cell[0] += deal["money"]
        cell[1] += 1
    return {key: (money, count) for key, (money, count) in totals.items()}


def engine(key: str, by: str, where: dict[str, str]) -> dict[tuple[dt.date, str], Any]:
    texts = [f"{name}={'' if value == BLANK else value}" for name, value in where.items()]
    result = kpi_values(key, user=None, start=START, end=END, every="month", by=by, where=texts or None)
    return {(p.period, p.group.label): p.value for p in result.points if p.value}


@override_settings(TIME_ZONE=ZONE_NAME)
class TestDimensionsReference(TestCase):
    def setUp(self) -> None:
        CustomField.objects.create(target="deal", key="contract", label="Contract", field_type="choice", choices=CONTRACTS)
        CustomField.objects.create(target="deal", key="seats", label="Seats", field_type="number")
        CustomField.objects.create(target="company", key="tier", label="Tier", field_type="text")

    @EXAMPLES
    @given(
        companies=st.lists(company_specs, min_size=1, max_size=4),
        deals=st.lists(deal_specs, min_size=1, max_size=25),
        by=st.sampled_from(["custom.contract", "custom.seats", "company.size", "company.industry", "company.custom.tier"]),
        segment=st.sampled_from(
            [
                {},
                {"custom.contract": "annual"},
                {"company.size": "10–49"},
                {"company.custom.tier": BLANK},
                {"custom.contract": BLANK},
            ]
        ),
    )
    def test_grouped_and_filtered_values_equal_the_reference(self, companies, deals, by, segment):
        seen = build(companies, deals)
        reference = expected(seen, by, segment)
        revenue = engine("won_revenue", by, segment)
        count = engine("won_deals", by, segment)
        assert set(count) == {key for key, (_money, n) in reference.items() if n}
        for key, (money, n) in reference.items():
            assert count[key] == n, (key, count, reference)
            if money:
                assert abs(Decimal(str(revenue[key])) - money) <= Decimal("0.01") + money * Decimal("1e-9"), (key, revenue, money)
        assert set(revenue) == {key for key, (money, _n) in reference.items() if money}
