"""Random companies for the reference tests: hypothesis draws plain specs, `build` turns them into rows.

Dates cluster where bugs hide: around local midnights at period boundaries (in a time zone with
daylight saving time), on identical instants, and before and after the evaluated range.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone
from hypothesis import strategies as st

from quota.accounts.models import Team, User
from quota.activities.models import Activity
from quota.crm.models import ChurnReason, Company, Deal, Lead, LeadSource, Stage
from quota.kpi.tests.reference import ZONE, World
from quota.marketing.models import Campaign, CampaignRecipient
from quota.sales.models import Offer, OfferLine, Order, Product
from quota.service.models import Case, SurveyAnswer
from quota.testing.factories import default_pipeline, lead_source, loss_reason

LOW = dt.datetime(2022, 11, 20, tzinfo=dt.UTC)
HIGH = dt.datetime(2025, 1, 25, tzinfo=dt.UTC)
MINUTES = int((HIGH - LOW).total_seconds() // 60)
PEOPLE = 3  # owners 0 and 1 share a team, 2 is in another; None is "unassigned"
COMPANIES = 5
SOURCES = ("website", "social", "referral")
PRODUCTS = 3


def _boundaries() -> list[dt.datetime]:
    """Local midnights that start a month, a quarter or a week, one minute either side (DST included)."""
    out = []
    day = dt.date(2023, 1, 1)
    while day < dt.date(2025, 1, 1):
        if day.day == 1 or day.weekday() == 0:
            midnight = dt.datetime(day.year, day.month, day.day, tzinfo=ZONE)
            out += [midnight - dt.timedelta(minutes=1), midnight]
        day += dt.timedelta(days=1)
    out += [dt.datetime(2024, 3, 31, 1, 59, tzinfo=ZONE), dt.datetime(2024, 3, 31, 3, 0, tzinfo=ZONE)]  # spring forward
    # In UTC, as the database returns them: Python compares and subtracts same-zone datetimes by wall clock.
    return [moment.astimezone(dt.UTC) for moment in out]


moments = st.one_of(
    st.integers(0, MINUTES).map(lambda m: LOW + dt.timedelta(minutes=m)),
    st.sampled_from(_boundaries()),
)
owners = st.sampled_from([0, 1, 2, None])
companies = st.one_of(st.integers(0, COMPANIES - 1), st.none())
rates = st.sampled_from([Decimal(1), Decimal(1), Decimal("0.25"), Decimal("4.3125"), Decimal("0.00012345")])
amounts = st.integers(0, 10**7).map(lambda cents: Decimal(cents) / 100)
delays = st.integers(0, 200 * 24 * 60).map(lambda m: dt.timedelta(minutes=m))


# The values the worlds draw for every choice field a KPI may filter on, by model and field. The strategies
# below draw from these lists, and test_worlds.py checks that every value a catalogue filter names is among
# them: a KPI filtered on a value no world ever holds would be None everywhere and "match" its reference.
CHOICES: dict[tuple[str, str], list[Any]] = {
    ("crm.Deal", "status"): ["open", "won", "lost"],
    ("crm.Deal", "business_type"): ["new", "existing"],
    ("crm.Lead", "status"): ["open", "qualified", "converted", "disqualified"],
    ("activities.Activity", "kind"): ["call", "email", "meeting", "task"],
    ("activities.Activity", "direction"): ["in", "out"],
    ("activities.Activity", "answered"): [True, False, None],
    ("activities.Activity", "held"): [True, False, None],
    ("service.Case", "status"): ["open", "resolved"],
    ("service.SurveyAnswer", "kind"): ["csat", "nps"],
    ("sales.Order", "status"): ["open", "fulfilled", "cancelled"],
    ("sales.Offer", "status"): ["draft", "sent", "accepted", "rejected", "expired"],
}


def choice(model: str, field_name: str) -> Any:
    return st.sampled_from(CHOICES[(model, field_name)])


# -- specs -----------------------------------------------------------------------------------------------


@st.composite
def deal_specs(draw: Any) -> dict[str, Any]:
    created = draw(moments)
    status = draw(choice("crm.Deal", "status"))
    return {
        "created_at": created,
        "closed_at": None if status == "open" else created + draw(delays),
        "status": status,
        "owner": draw(owners),
        "company": draw(companies),
        "amount": draw(amounts),
        "exchange_rate": draw(rates),
        "business_type": draw(choice("crm.Deal", "business_type")),
        "source": draw(st.integers(0, len(SOURCES) - 1)),
        "stage": draw(st.integers(0, 3)),
        # Which lost deal of the world this deal was opened from (as its follow-up), if any.
        "won_back_from": draw(st.none() | st.integers(0, 20)),
    }


@st.composite
def lead_specs(draw: Any) -> dict[str, Any]:
    created = draw(moments)
    status = draw(choice("crm.Lead", "status"))
    return {
        "created_at": created,
        "converted_at": created + draw(delays) if status == "converted" else None,
        "status": status,
        "owner": draw(owners),
        "source": draw(st.integers(0, len(SOURCES) - 1)),
    }


@st.composite
def activity_specs(draw: Any) -> dict[str, Any]:
    kind = draw(choice("activities.Activity", "kind"))
    spec: dict[str, Any] = {"kind": kind, "occurred_at": draw(moments), "owner": draw(owners)}
    if kind == "call":
        spec["direction"] = draw(choice("activities.Activity", "direction"))
        spec["answered"] = draw(choice("activities.Activity", "answered"))
        spec["duration_seconds"] = draw(st.integers(1, 7200)) if spec["answered"] else None
    elif kind == "email":
        spec["direction"] = draw(choice("activities.Activity", "direction"))
    elif kind == "meeting":
        spec["held"] = draw(choice("activities.Activity", "held"))
    return spec


@st.composite
def case_specs(draw: Any) -> dict[str, Any]:
    created = draw(moments)
    responded = draw(st.booleans())
    resolved = draw(st.booleans())
    return {
        "created_at": created,
        "first_response_at": created + draw(delays) / 100 if responded else None,
        "resolved_at": created + draw(delays) if resolved else None,
        "response_due_at": created + dt.timedelta(hours=draw(st.sampled_from([2, 8, 24, 48]))),
        "status": "resolved" if resolved else "open",
        "owner": draw(owners),
    }


@st.composite
def answer_specs(draw: Any) -> dict[str, Any]:
    kind = draw(choice("service.SurveyAnswer", "kind"))
    return {
        "kind": kind,
        "score": draw(st.integers(1, 5) if kind == "csat" else st.integers(0, 10)),
        "answered_at": draw(moments),
        "owner": draw(owners),
    }


@st.composite
def campaign_specs(draw: Any) -> dict[str, Any]:
    return {
        "starts_on": draw(moments).astimezone(ZONE).date(),
        "spend": draw(amounts),
        "exchange_rate": draw(rates),
        "owner": draw(owners),
        "source": draw(st.integers(0, len(SOURCES) - 1)),
    }


@st.composite
def recipient_specs(draw: Any) -> dict[str, Any]:
    sent = draw(moments)
    opened = draw(st.booleans())
    return {
        "sent_at": sent,
        "opened_at": sent + draw(delays) / 50 if opened else None,
        "clicked": opened and draw(st.booleans()),
        "campaign": draw(st.integers(0, 2)),
    }


@st.composite
def offer_specs(draw: Any) -> dict[str, Any]:
    lines = draw(
        st.lists(st.tuples(st.integers(0, PRODUCTS - 1), st.integers(1, 5000), amounts, st.integers(0, 100)), max_size=3)
    )
    return {
        "created_at": draw(moments),
        "owner": draw(owners),
        "exchange_rate": draw(rates),
        "status": draw(choice("sales.Offer", "status")),
        "lines": lines,
    }


@st.composite
def order_specs(draw: Any) -> dict[str, Any]:
    return {
        "ordered_at": draw(moments),
        "owner": draw(owners),
        "company": draw(st.integers(0, COMPANIES - 1)),
        "amount": draw(amounts),
        "cost": draw(amounts),
        "exchange_rate": draw(rates),
        "status": draw(choice("sales.Order", "status")),
    }


@st.composite
def lifecycle_specs(draw: Any) -> dict[str, Any]:
    """A company: a prospect, a customer since a day, or a customer who churned on that day or later."""
    stage = draw(st.sampled_from(["prospect", "customer", "churned"]))
    since = draw(moments).astimezone(ZONE).date() if stage != "prospect" else None
    churned = since + dt.timedelta(days=draw(st.integers(0, 400))) if since is not None and stage == "churned" else None
    return {"owner": draw(owners), "customer_since": since, "churned_on": churned}


def some(strategy: Any, most: int = 30) -> Any:
    return st.lists(strategy, max_size=most)


# -- rows ----------------------------------------------------------------------------------------------------


@dataclass
class Base:
    """The people, teams, customers, sources, stages and products every example starts from."""

    people: list[User]
    teams: list[Team]
    companies: list[Company]
    sources: list[LeadSource]
    stages: list[Stage]
    products: list[Product]
    campaigns: list[Campaign] = field(default_factory=list)

    @classmethod
    def create(cls) -> Base:
        teams = [Team.objects.create(name="North"), Team.objects.create(name="South")]
        people = [
            User.objects.create(username=f"person{i}", first_name=f"Person {i}", team=teams[0 if i < 2 else 1])
            for i in range(PEOPLE)
        ]
        companies = [Company.objects.create(name=f"Customer {i}") for i in range(COMPANIES)]
        products = [Product.objects.create(name=f"Product {i}", price=Decimal(100)) for i in range(PRODUCTS)]
        stages = list(default_pipeline().stages.order_by("position"))
        return cls(people, teams, companies, [lead_source(key) for key in SOURCES], stages, products)

    def owner(self, index: int | None) -> User | None:
        return None if index is None else self.people[index]

    def team_of(self) -> dict[Any, Any]:
        return {person.pk: person.team_id for person in self.people} | {None: None}


def link_win_backs(deals: list[Deal], specs: list[dict[str, Any]]) -> None:
    """Point deals whose spec names a `won_back_from` at one of the world's lost deals (never themselves)."""
    lost = [deal for deal in deals if deal.status == "lost"]
    changed = []
    for deal, spec in zip(deals, specs, strict=True):
        pick = spec.get("won_back_from")
        if pick is None or not lost or lost[pick % len(lost)] is deal:
            continue
        deal.won_back_from = lost[pick % len(lost)]
        changed.append(deal)
    Deal.objects.bulk_update(changed, ["won_back_from"])


def build(base: Base, **specs: list[dict[str, Any]]) -> World:
    """Create the rows for `specs` (deals=[...], leads=[...], ...) and return them as a World."""
    world = World(probability={stage.pk: stage.probability for stage in base.stages}, now=timezone.now())
    if specs.get("deals"):
        lost = loss_reason()
        pipeline = base.stages[0].pipeline
        world.deals = Deal.objects.bulk_create(
            Deal(
                title=f"Deal {i}",
                pipeline=pipeline,
                stage=base.stages[s["stage"]],
                owner=base.owner(s["owner"]),
                company=None if s["company"] is None else base.companies[s["company"]],
                amount=s["amount"],
                exchange_rate=s["exchange_rate"],
                status=s["status"],
                loss_reason=lost if s["status"] == "lost" else None,
                business_type=s["business_type"],
                source=base.sources[s["source"]],
                created_at=s["created_at"],
                closed_at=s["closed_at"],
                stage_changed_at=s["created_at"],
            )
            for i, s in enumerate(specs["deals"])
        )
        link_win_backs(world.deals, specs["deals"])
    if specs.get("lifecycles"):
        reason = ChurnReason.objects.get_or_create(name="Contract ended")[0]
        world.companies = Company.objects.bulk_create(
            Company(
                name=f"Subscriber {i}",
                owner=base.owner(s["owner"]),
                customer_since=s["customer_since"],
                churned_on=s["churned_on"],
                churn_reason=reason if s["churned_on"] else None,
            )
            for i, s in enumerate(specs["lifecycles"])
        )
    if specs.get("leads"):
        world.leads = Lead.objects.bulk_create(
            Lead(
                title=f"Lead {i}",
                source=base.sources[s["source"]],
                status=s["status"],
                owner=base.owner(s["owner"]),
                created_at=s["created_at"],
                converted_at=s["converted_at"],
            )
            for i, s in enumerate(specs["leads"])
        )
    if specs.get("activities"):
        world.activities = Activity.objects.bulk_create(
            Activity(
                kind=s["kind"],
                owner=base.owner(s["owner"]),
                occurred_at=s["occurred_at"],
                direction=s.get("direction", ""),
                answered=s.get("answered"),
                duration_seconds=s.get("duration_seconds"),
                held=s.get("held"),
            )
            for s in specs["activities"]
        )
    if specs.get("cases"):
        world.cases = Case.objects.bulk_create(
            Case(
                number=f"C-{i}",
                subject="Help",
                owner=base.owner(s["owner"]),
                status=s["status"],
                created_at=s["created_at"],
                first_response_at=s["first_response_at"],
                resolved_at=s["resolved_at"],
                response_due_at=s["response_due_at"],
            )
            for i, s in enumerate(specs["cases"])
        )
    if specs.get("answers"):
        world.answers = SurveyAnswer.objects.bulk_create(
            SurveyAnswer(
                kind=s["kind"],
                score=s["score"],
                answered_at=s["answered_at"],
                owner=base.owner(s["owner"]),
                company=base.companies[0],
            )
            for s in specs["answers"]
        )
    if specs.get("campaigns") is not None or specs.get("recipients"):
        campaigns = specs.get("campaigns") or []
        # Recipients need campaigns: three fixed ones (owners 0, 1, nobody) after the generated ones.
        fixed = [
            {"starts_on": dt.date(2020, 1, 1), "spend": Decimal(0), "exchange_rate": Decimal(1), "owner": o, "source": 0}
            for o in (0, 1, None)
        ]
        world.campaigns = Campaign.objects.bulk_create(
            Campaign(
                name=f"Campaign {i}",
                source=base.sources[s["source"]],
                owner=base.owner(s["owner"]),
                starts_on=s["starts_on"],
                spend=s["spend"],
                exchange_rate=s["exchange_rate"],
            )
            for i, s in enumerate(campaigns + fixed)
        )
        base.campaigns = world.campaigns[-3:]
    if specs.get("recipients"):
        world.recipients = CampaignRecipient.objects.bulk_create(
            CampaignRecipient(
                campaign=base.campaigns[s["campaign"]],
                email=f"r{i}@example.com",
                sent_at=s["sent_at"],
                opened_at=s["opened_at"],
                clicked_at=s["opened_at"] if s["clicked"] else None,
            )
            for i, s in enumerate(specs["recipients"])
        )
    if specs.get("offers"):
        world.offers = Offer.objects.bulk_create(
            Offer(
                number=f"Q-{i}",
                company=base.companies[0],
                owner=base.owner(s["owner"]),
                exchange_rate=s["exchange_rate"],
                status=s.get("status", "draft"),
                created_at=s["created_at"],
            )
            for i, s in enumerate(specs["offers"])
        )
        world.lines = OfferLine.objects.bulk_create(
            OfferLine(
                offer=offer,
                product=base.products[product],
                quantity=Decimal(quantity) / 1000,
                unit_price=price,
                discount_percent=Decimal(discount),
            )
            for offer, s in zip(world.offers, specs["offers"], strict=True)
            for product, quantity, price, discount in s["lines"]
        )
    if specs.get("orders"):
        world.orders = Order.objects.bulk_create(
            Order(
                number=f"O-{i}",
                company=base.companies[s["company"]],
                owner=base.owner(s["owner"]),
                amount=s["amount"],
                cost=s["cost"],
                exchange_rate=s["exchange_rate"],
                status=s["status"],
                ordered_at=s["ordered_at"],
            )
            for i, s in enumerate(specs["orders"])
        )
    return world
