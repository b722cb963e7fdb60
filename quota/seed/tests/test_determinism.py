"""The same seed and date give the same company; another seed gives another."""

import datetime as dt
import hashlib

import pytest
from django.db.models import Count, Sum

from quota.activities.models import Activity
from quota.crm.models import Deal, DealStageChange, Lead
from quota.sales.models import Invoice, OfferLine
from quota.seed import seed_company
from quota.seed.tests.conftest import SMALL, TODAY
from quota.service.models import Case

pytestmark = pytest.mark.django_db


def rows_hash(queryset, fields):
    digest = hashlib.sha256()
    for row in queryset.order_by("id").values_list(*fields):
        digest.update(repr(row).encode())
    return digest.hexdigest()


def fingerprint(report):
    return {
        "rows": report.rows,
        "deals by status": list(Deal.objects.values_list("status").annotate(Count("id"), Sum("amount")).order_by("status")),
        "invoiced": Invoice.objects.aggregate(Sum("amount"), Sum("cost"), Sum("profit")),
        "deals": rows_hash(
            Deal.objects, ["id", "title", "amount", "currency", "status", "stage_id", "owner_id", "created_at", "closed_at"]
        ),
        "history": rows_hash(DealStageChange.objects, ["deal_id", "from_stage_id", "to_stage_id", "to_status", "changed_at"]),
        "leads": rows_hash(Lead.objects, ["title", "email", "status", "created_at", "converted_at", "utm"]),
        "activities": rows_hash(
            Activity.objects.filter(id__lte=500), ["kind", "subject", "occurred_at", "answered", "duration_seconds"]
        ),
        "lines": rows_hash(OfferLine.objects, ["offer_id", "product_id", "quantity", "unit_price", "discount_percent"]),
        "cases": rows_hash(Case.objects, ["number", "priority", "created_at", "first_response_at", "resolved_at"]),
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
        assert other["rows"]["crm_deal"] == base["rows"]["crm_deal"]  # the size is the size
