"""The generated company as a plan: what to write into each table, in an order that respects foreign keys.

Building the plan draws everything small enough to hold (people, companies, contacts,
leads, deals as numeric arrays); the big tables (stage changes, quote lines, activities,
recipients) are drawn while they are written, one chunk at a time, so memory stays flat.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db import models

from quota.accounts.models import Team, User
from quota.activities.models import Activity
from quota.crm.models import Company, Contact, Deal, DealStageChange, DealState, Lead
from quota.kpi.models import Target
from quota.marketing.models import Campaign, CampaignRecipient
from quota.notifications.models import Notification
from quota.sales.models import Invoice, Offer, OfferLine, Order, Product
from quota.seed import activities, backlog, customers, deals, history, leads, marketing, people, revisions, sales, service
from quota.seed.clock import Clock
from quota.seed.columns import Batch
from quota.seed.reference import Reference
from quota.seed.sizes import Scale
from quota.service.models import Case, SurveyAnswer


@dataclass(frozen=True)
class TablePlan:
    model: type[models.Model]
    rows: int
    batches: Callable[[], Iterator[Batch]]

    @property
    def table(self) -> str:
        return self.model._meta.db_table


def _one(batch: Batch) -> Callable[[], Iterator[Batch]]:
    return lambda: iter([batch])


def plan_company(scale: Scale, seed: int, clock: Clock, reference: Reference) -> list[TablePlan]:
    """Every table the seed fills, parents before children, with its exact row count."""
    staff = people.build_people(scale, seed)
    companies = customers.build_companies(scale.companies, staff, clock, seed)
    contacts = customers.build_contacts(companies, seed)
    campaigns = marketing.build_campaigns(scale, staff, companies, reference.euro, clock, seed)
    incoming = leads.build_leads(scale.deals, staff, companies, campaigns, clock, seed)
    pipeline = deals.build_deals(scale.deals, staff, companies, incoming, reference, clock, seed)
    sales.price_quotes(pipeline, reference, seed)
    revised = revisions.revise(pipeline, clock, seed)  # once the amounts are the quotes' totals
    activity_counts = activities.deal_activity_counts(pipeline, staff, scale, clock, seed)
    deal_activities = int(activity_counts.sum())
    prospecting = max(0, scale.activities - deal_activities)
    follow_ups = backlog.build_follow_ups(pipeline, staff, clock, seed)
    orders = sales.build_orders(pipeline, companies, clock, seed)
    invoices = sales.build_invoices(orders, clock, seed)
    cases = service.build_cases(pipeline, staff, scale, clock, seed)
    surveys = service.build_surveys(cases, pipeline, staff, clock, seed)
    quotes = sales.offer_ids(pipeline) > 0
    assert pipeline.line_count is not None

    def all_activities() -> Iterator[Batch]:
        yield from activities.deal_activity_batches(pipeline, activity_counts, staff, clock, seed)
        yield from activities.prospecting_batches(prospecting, deal_activities + 1, staff, companies, clock, seed)
        yield activities.follow_up_batch(follow_ups, deal_activities + prospecting + 1, pipeline, seed)

    return [
        TablePlan(Team, len(staff.teams), _one(people.team_batch(staff))),
        TablePlan(User, len(staff.persons), lambda: iter([people.user_batch(staff, clock, seed)])),
        TablePlan(Product, len(sales.PRODUCTS), _one(sales.product_batch(reference))),
        TablePlan(Company, len(companies), lambda: customers.company_batches(companies, reference.euro, seed)),
        TablePlan(Contact, len(contacts), lambda: customers.contact_batches(contacts, companies, seed)),
        TablePlan(Campaign, len(campaigns), _one(marketing.campaign_batch(campaigns, reference.source_ids, reference.currency))),
        TablePlan(
            Lead, len(incoming), lambda: leads.lead_batches(incoming, companies, contacts, campaigns, reference.source_ids, seed)
        ),
        TablePlan(Deal, len(pipeline), lambda: deals.deal_batches(pipeline, staff, companies, reference)),
        TablePlan(
            DealStageChange,
            history.stage_change_count(pipeline),
            lambda: history.stage_change_batches(pipeline, staff, reference),
        ),
        # The revised deals' states; the runner reads the others' off their stage changes, in the database.
        TablePlan(
            DealState,
            history.revised_state_count(pipeline, revised),
            lambda: history.revised_state_batches(pipeline, revised, staff, reference),
        ),
        TablePlan(Offer, int(quotes.sum()), lambda: sales.offer_batches(pipeline, staff, reference, clock, seed)),
        TablePlan(OfferLine, int(pipeline.line_count.sum()), lambda: sales.offer_line_batches(pipeline, reference, seed)),
        TablePlan(Order, len(orders), lambda: sales.order_batches(orders, pipeline, staff, reference, clock)),
        TablePlan(Invoice, len(invoices), lambda: sales.invoice_batches(invoices, orders, pipeline, staff, reference, clock)),
        TablePlan(Activity, deal_activities + prospecting + len(follow_ups), all_activities),
        TablePlan(Case, len(cases), lambda: service.case_batches(cases, pipeline, seed)),
        TablePlan(SurveyAnswer, len(surveys), lambda: service.survey_batches(surveys, pipeline)),
        TablePlan(
            CampaignRecipient,
            int(campaigns.recipients.sum()),
            lambda: marketing.recipient_batches(campaigns, contacts, companies, clock, seed),
        ),
    ]


# The models the seed fills, parents first: what --flush empties and what makes a database "not empty".
SEEDED_MODELS: tuple[type[models.Model], ...] = (
    Team,
    User,
    Product,
    Company,
    Contact,
    Campaign,
    Lead,
    Deal,
    DealStageChange,
    DealState,
    Offer,
    OfferLine,
    Order,
    Invoice,
    Activity,
    Case,
    SurveyAnswer,
    CampaignRecipient,
    Target,  # with the notifications, written after the records (see seed.early_warnings)
    Notification,
)
