"""The generated company obeys the rules the app itself keeps: stage history, dates, links, logins."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from django.contrib.auth import authenticate
from django.db import connection
from django.db.models import F, Q

from quota.accounts.models import Role, User
from quota.activities.models import Activity
from quota.crm.models import Deal, DealStageChange, Lead, LeadSource, Pipeline
from quota.marketing.models import Campaign, CampaignRecipient
from quota.sales.models import Invoice, Offer, Order
from quota.seed.clock import Clock
from quota.seed.people import DEMO_LOGINS
from quota.seed.tests.conftest import TODAY
from quota.seed.world import SEEDED_MODELS
from quota.service.models import Case, SurveyAnswer

pytestmark = pytest.mark.django_db


def test_every_deal_has_a_stage_history_matching_its_dates_and_status(seeded):
    first_stage = Pipeline.objects.get(is_default=True).stages.order_by("position").first()
    history = defaultdict(list)
    for change in DealStageChange.objects.order_by("deal_id", "id"):
        history[change.deal_id].append(change)
    deals = list(Deal.objects.all())
    assert len(history) == len(deals)
    for deal in deals:
        rows = history[deal.pk]
        opening, *later = rows
        assert (opening.from_stage_id, opening.from_status, opening.to_stage_id) == (None, "", first_stage.pk)
        assert opening.to_status == "open" and opening.changed_at == deal.created_at
        assert [r.changed_at for r in rows] == sorted(r.changed_at for r in rows)
        for before, after in zip(rows, later, strict=False):
            assert after.from_stage_id == before.to_stage_id and after.from_status == "open"
        moves = [r for r in later if r.to_status == "open"]
        closes = [r for r in later if r.to_status != "open"]
        assert rows[-1].to_stage_id == deal.stage_id
        assert deal.stage_changed_at == (moves[-1].changed_at if moves else deal.created_at)
        if deal.status == "open":
            assert not closes and deal.closed_at is None
        else:
            assert [(c.to_status, c.changed_at) for c in closes] == [(deal.status, deal.closed_at)]
            assert closes[0] is rows[-1] and closes[0].from_stage_id == deal.stage_id
            assert deal.closed_at >= deal.created_at
        if deal.status == "lost":
            assert deal.loss_reason_id is not None


def test_records_pass_their_models_validation(seeded):
    """full_clean on a sample of every table: choices, lengths, phone numbers and each model's clean()."""
    for model in SEEDED_MODELS:
        for record in model._default_manager.order_by("?")[:15]:
            record.full_clean(validate_unique=False)


def test_no_reference_points_at_a_missing_row(seeded):
    """PostgreSQL loads skip per-row foreign key triggers, so check every reference here."""
    with connection.cursor() as cursor:
        for model in SEEDED_MODELS:
            for field in model._meta.concrete_fields:
                if not field.is_relation:
                    continue
                table, column = model._meta.db_table, field.column
                target = field.related_model._meta.db_table
                cursor.execute(
                    f"SELECT COUNT(*) FROM {table} t LEFT JOIN {target} r ON t.{column} = r.id "
                    f"WHERE t.{column} IS NOT NULL AND r.id IS NULL"
                )
                assert cursor.fetchone()[0] == 0, f"{table}.{column} points at missing {target} rows"


def test_converted_leads_carry_their_deal(seeded):
    converted = Lead.objects.filter(status="converted")
    assert converted.exists() and not Lead.objects.filter(status="converted", converted_at=None).exists()
    deals = {deal.lead_id: deal for deal in Deal.objects.filter(lead__isnull=False)}
    assert len(deals) == converted.count()
    for lead in converted:
        deal = deals[lead.pk]
        assert lead.contact_id and lead.company_id
        assert (deal.source_id, deal.contact_id, deal.company_id) == (lead.source_id, lead.contact_id, lead.company_id)
        assert deal.created_at == lead.converted_at >= lead.created_at
    assert not Lead.objects.exclude(status="converted").filter(Q(converted_at__isnull=False) | Q(deals__isnull=False)).exists()


def test_referrals_convert_best_and_social_worst(seeded):
    rates = {}
    for source in LeadSource.objects.filter(is_system=True):
        settled = dt.datetime.combine(seeded.today - dt.timedelta(days=60), dt.time(), dt.UTC)
        leads = Lead.objects.filter(source=source, created_at__lt=settled)
        rates[source.key] = leads.filter(status="converted").count() / max(1, leads.count())
    assert max(rates, key=rates.get) == "referral" and min(rates, key=rates.get) == "social"


def test_current_month_quarter_and_year_have_won_deals(seeded):
    """Even on the 1st of the month: every seller with an open deal closes one this morning."""
    clock = Clock.ending(TODAY, "UTC")
    month = dt.datetime.fromtimestamp(clock.month_start, dt.UTC)
    won_this_month = Deal.objects.filter(status="won", closed_at__gte=month)
    sellers = User.objects.filter(role__in=[Role.REP, Role.MANAGER])
    winners = sellers.filter(pk__in=won_this_month.values("owner"))
    assert winners.filter(username="rep").exists() and winners.count() >= sellers.count() / 2
    assert all(d.closed_at <= dt.datetime.fromtimestamp(clock.as_of, dt.UTC) for d in won_this_month)
    rep = User.objects.get(username="rep")
    assert Activity.objects.filter(owner=rep, occurred_at__gte=month - dt.timedelta(days=30)).count() > 20


def test_history_has_the_texture_kpis_need(seeded):
    assert Deal.objects.filter(business_type="existing").exists() and Deal.objects.filter(business_type="new").exists()
    assert Deal.objects.filter(won_back_from__isnull=False, won_back_from__status="lost").exists()
    slipped = Deal.objects.exclude(status="open").filter(closed_at__date__gt=F("expected_close_date"))
    assert slipped.exists() and Deal.objects.filter(status="open", expected_close_date__lt=TODAY).exists()
    assert Invoice.objects.filter(cost__gt=F("amount")).exists(), "a few loss-making customers"
    assert Order.objects.filter(profit__gt=0).exists()
    breached = [c for c in Case.objects.exclude(first_response_at=None) if c.first_response_at > c.response_due_at]
    assert breached and len(breached) < Case.objects.count() / 3
    assert {a.kind for a in SurveyAnswer.objects.all()} == {"csat", "nps"}
    calls = Activity.objects.filter(kind="call")
    assert calls.filter(answered=False).exists() and calls.filter(direction="in").exists()
    assert not calls.filter(answered=False, duration_seconds__gt=0).exists()
    assert Activity.objects.filter(kind="meeting", held=False).exists()
    assert CampaignRecipient.objects.filter(clicked_at__isnull=False).exists()
    assert Campaign.objects.values("source").distinct().count() >= 3


def test_won_and_lost_deals_each_take_their_own_time(seeded):
    """Sales cycles spread out deal by deal: no two-thirds of the lost (or won) deals take the same number of days."""
    for status in ("won", "lost"):
        days = [
            (closed - created).days
            for created, closed in Deal.objects.filter(status=status).values_list("created_at", "closed_at")
        ]
        most_common = max(days.count(d) for d in set(days))
        assert len(days) > 30 and len(set(days)) > 10 and most_common < len(days) / 5, (status, sorted(days)[:40])


def test_quote_totals_are_the_sum_of_their_lines(seeded):
    for offer in Offer.objects.prefetch_related("lines")[:200]:
        assert offer.amount == sum((line.total for line in offer.lines.all()), Decimal("0"))
        assert offer.cost == sum((line.total_cost for line in offer.lines.all()), Decimal("0"))
        if offer.deal.status == "won":
            assert offer.status == "accepted" and offer.deal.amount == offer.amount


def test_demo_logins_sign_in_with_the_demo_password(seeded):
    for username in DEMO_LOGINS:
        assert authenticate(username=username, password="demo") is not None, username
    assert User.objects.get(username="director").role == Role.DIRECTOR
    admin = User.objects.get(username="admin")
    assert admin.role == Role.ADMIN and admin.is_staff and admin.is_superuser
    manager = User.objects.get(username="manager")
    rep = User.objects.get(username="rep")
    assert manager.role == Role.MANAGER and rep.role == Role.REP and rep.team_id == manager.team_id
    assert User.objects.filter(team=manager.team, role=Role.REP).count() >= 3
    assert manager.team.parent == User.objects.get(username="director").team
    others = User.objects.exclude(username__in=DEMO_LOGINS)
    assert others.exists() and not any(user.has_usable_password() for user in others)


def test_new_records_get_ids_after_the_seeded_ones(seeded):
    from quota.crm.services import deal_create

    highest = Deal.objects.order_by("-id").values_list("id", flat=True).first()
    assert deal_create(by=None, title="After the seed").pk > highest
