"""factory_boy factories for every record; tests build data with these, never by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from quota.accounts.models import Role, Team, User
from quota.activities.models import Activity, ActivityKind, Direction
from quota.crm.history import initial_states
from quota.crm.models import Company, Contact, Deal, DealState, Lead, LeadSource, LossReason, Pipeline
from quota.marketing.models import Campaign, CampaignRecipient
from quota.sales.models import Invoice, Offer, OfferLine, Order, Product
from quota.service.models import Case, SurveyAnswer


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = Role.REP
    team = factory.SubFactory(TeamFactory)
    password = factory.django.Password("pw")


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Company {n}")
    owner = factory.SubFactory(UserFactory)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")
    company = factory.SubFactory(CompanyFactory)
    owner = factory.SelfAttribute("company.owner")


def lead_source(key: str = "website") -> LeadSource:
    return LeadSource.objects.get_or_create(key=key, defaults={"name": key.title()})[0]


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    title = factory.Sequence(lambda n: f"Lead {n}")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"lead{n}@example.com")
    company_name = factory.Sequence(lambda n: f"Prospect {n}")
    source = factory.LazyFunction(lead_source)
    owner = factory.SubFactory(UserFactory)


def default_pipeline() -> Pipeline:
    return Pipeline.objects.get(is_default=True)


class DealFactory(factory.django.DjangoModelFactory):
    """An open deal in the default pipeline's first stage (use the services to move or close it)."""

    class Meta:
        model = Deal
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Deal {n}")
    owner = factory.SubFactory(UserFactory)
    company = factory.SubFactory(CompanyFactory, owner=factory.SelfAttribute("..owner"))
    pipeline = factory.LazyFunction(default_pipeline)
    stage = factory.LazyAttribute(lambda d: d.pipeline.stages.order_by("position").first())
    amount = Decimal("1000.00")
    currency = "EUR"
    created_at = factory.LazyFunction(timezone.now)
    stage_changed_at = factory.SelfAttribute("created_at")

    @factory.post_generation
    def history(deal: Deal, create: bool, extracted: Any, **kwargs: Any) -> None:
        """Its states, as `crm.services.deal_create` writes them (open from creation, then its outcome)."""
        if create:
            DealState.objects.bulk_create(initial_states(deal))


def loss_reason(name: str = "Price too high") -> LossReason:
    return LossReason.objects.get_or_create(name=name)[0]


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    price = Decimal("100.00")
    cost = Decimal("60.00")


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offer

    number = factory.Sequence(lambda n: f"Q-{n:06d}")
    company = factory.SubFactory(CompanyFactory)
    owner = factory.SelfAttribute("company.owner")


class OfferLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OfferLine

    offer = factory.SubFactory(OfferFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = Decimal("1")
    unit_price = factory.SelfAttribute("product.price")
    unit_cost = factory.SelfAttribute("product.cost")


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    number = factory.Sequence(lambda n: f"O-{n:06d}")
    company = factory.SubFactory(CompanyFactory)
    owner = factory.SelfAttribute("company.owner")
    amount = Decimal("1000.00")
    cost = Decimal("700.00")


class InvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invoice

    number = factory.Sequence(lambda n: f"I-{n:06d}")
    company = factory.SubFactory(CompanyFactory)
    owner = factory.SelfAttribute("company.owner")
    amount = Decimal("1000.00")
    cost = Decimal("700.00")


class CallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    kind = ActivityKind.CALL
    subject = "Call"
    owner = factory.SubFactory(UserFactory)
    direction = Direction.OUTBOUND
    answered = True
    duration_seconds = 300


class TaskFactory(factory.django.DjangoModelFactory):
    """A task: `occurred_at` is when it is due; `completed_at` is set once it is done."""

    class Meta:
        model = Activity

    kind = ActivityKind.TASK
    subject = "Task"
    owner = factory.SubFactory(UserFactory)


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    kind = ActivityKind.MEETING
    subject = "Meeting"
    owner = factory.SubFactory(UserFactory)
    held = True
    duration_seconds = 1800


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    number = factory.Sequence(lambda n: f"C-{n:06d}")
    subject = "Printer does not print"
    company = factory.SubFactory(CompanyFactory)
    owner = factory.SubFactory(UserFactory)
    created_at = factory.LazyFunction(timezone.now)


class SurveyAnswerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyAnswer

    kind = "csat"
    score = 5
    company = factory.SubFactory(CompanyFactory)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    source = factory.LazyFunction(lambda: lead_source("social"))
    starts_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=30))
    spend = Decimal("5000.00")


class CampaignRecipientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignRecipient

    campaign = factory.SubFactory(CampaignFactory)
    email = factory.Sequence(lambda n: f"r{n}@example.com")
    sent_at = factory.LazyFunction(timezone.now)
