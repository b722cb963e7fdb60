"""The same seed and date give the same company, targets and warnings; another seed gives another company."""

import datetime as dt
import hashlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, Sum

from quota.activities.models import Activity
from quota.crm.models import Company, Deal, DealStageChange, DealState, Lead
from quota.kpi.models import Target
from quota.notifications.models import Notification
from quota.sales.models import Invoice, OfferLine
from quota.seed.runner import seed_company
from quota.seed.tests.conftest import SMALL, TODAY
from quota.service.models import Case

pytestmark = pytest.mark.django_db


def rows_hash(queryset, fields, order=("id",)):
    digest = hashlib.sha256()
    for row in queryset.order_by(*order).values_list(*fields):
        digest.update(repr(row).encode())
    return digest.hexdigest()


STATE_FIELDS = ["deal_id", "valid_from", "valid_to", "stage_id", "status", "amount", "expected_close_date", "owner_id"]


def fingerprint(report):
    return {
        "rows": report.rows,
        "deals by status": list(Deal.objects.values_list("status").annotate(Count("id"), Sum("amount")).order_by("status")),
        "invoiced": Invoice.objects.aggregate(Sum("amount"), Sum("cost"), Sum("profit")),
        "deals": rows_hash(
            Deal.objects, ["id", "title", "amount", "currency", "status", "stage_id", "owner_id", "created_at", "closed_at"]
        ),
        "history": rows_hash(DealStageChange.objects, ["deal_id", "from_stage_id", "to_stage_id", "to_status", "changed_at"]),
        # By content: the states' ids come from the table's sequence (PostgreSQL's goes on after a flush).
        "states": rows_hash(DealState.objects, STATE_FIELDS, order=("deal_id", "valid_from")),
        "leads": rows_hash(Lead.objects, ["title", "email", "status", "created_at", "converted_at", "utm"]),
        "activities": rows_hash(
            Activity.objects.filter(id__lte=500), ["kind", "subject", "occurred_at", "answered", "duration_seconds"]
        ),
        "lines": rows_hash(OfferLine.objects, ["offer_id", "product_id", "quantity", "unit_price", "discount_percent"]),
        "cases": rows_hash(Case.objects, ["number", "priority", "created_at", "first_response_at", "resolved_at"]),
        "lifecycles": rows_hash(Company.objects, ["id", "customer_since", "churned_on", "churn_reason__key"]),
    }


def test_same_seed_and_date_give_identical_data():
    first = fingerprint(seed_company(size=SMALL, seed=7, today=TODAY))
    second = fingerprint(seed_company(size=SMALL, seed=7, today=TODAY, flush=True))
    assert first == second


def test_another_seed_or_date_gives_other_data():
    base = fingerprint(seed_company(size=SMALL, seed=7, today=TODAY))
    other_seed = fingerprint(seed_company(size=SMALL, seed=8, today=TODAY, flush=True))
    other_date = fingerprint(seed_company(size=SMALL, seed=7, today=dt.date(2025, 6, 15), flush=True))
    for other in (other_seed, other_date):
        assert other["deals"] != base["deals"] and other["activities"] != base["activities"]
        assert other["states"] != base["states"]
        assert other["rows"]["crm_deal"] == base["rows"]["crm_deal"]  # the size is the size


def seed_command(**options):
    call_command("seed", size=SMALL, seed=7, today=TODAY.isoformat(), no_progress=True, stdout=StringIO(), **options)


def targets_and_warnings():
    """What the finishing step adds, by content (ids are not compared: PostgreSQL sequences go on after a flush)."""
    targets = Target.objects.values_list(
        "metric__key", "metric__version", "user__username", "team__name", "period", "start", "end", "value", "team_target"
    )
    warnings = Notification.objects.values_list("user__username", "kind", "title", "body", "created_at", "read_at")
    return sorted(targets, key=repr), sorted(warnings, key=repr)


def test_same_seed_and_date_give_the_same_targets_and_warnings():
    seed_command()
    first = targets_and_warnings()
    seed_command(flush=True)
    assert targets_and_warnings() == first
    assert len(first[0]) > 1_000 and first[1]
