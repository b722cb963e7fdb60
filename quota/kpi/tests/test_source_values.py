"""Computed values of sources: whole amounts keep their fractions on both databases.

SQLite stores a whole decimal (2.00) as an integer, so a bare `/ 100` there truncated the weighted
pipeline of a 2.00 deal at 75 % to 1 (the reference said 1.5).
"""

from decimal import Decimal

import pytest
from django.db.models import DecimalField, F, Value

from quota.crm.models import Deal
from quota.kpi.expressions import Quotient
from quota.kpi.sources import get_source
from quota.sales.models import OfferLine
from quota.testing.factories import DealFactory, OfferLineFactory, default_pipeline

pytestmark = pytest.mark.django_db


def stage(probability: int):
    return default_pipeline().stages.get(probability=probability)


@pytest.mark.parametrize(
    ("amount", "rate", "probability", "weighted"),
    [
        (Decimal(2), Decimal(1), 75, Decimal("1.5")),  # the reference test's failing world
        (Decimal(3), Decimal(1), 10, Decimal("0.3")),
        (Decimal("2.50"), Decimal(1), 75, Decimal("1.875")),
        (Decimal(2), Decimal("0.25"), 50, Decimal("0.25")),
    ],
)
def test_weighted_amount_keeps_the_fraction_of_a_whole_amount(amount, rate, probability, weighted):
    deal = DealFactory(amount=amount, exchange_rate=rate, stage=stage(probability))
    value = Deal.objects.annotate(w=get_source("deals").value("weighted_amount")).get(pk=deal.pk).w
    assert value == weighted


def test_offer_line_total_keeps_the_fraction_of_whole_figures():
    line = OfferLineFactory(quantity=Decimal(1), unit_price=Decimal(1), discount_percent=Decimal(50))
    line.offer.exchange_rate = Decimal(3)
    line.offer.save(update_fields=["exchange_rate"])
    value = OfferLine.objects.annotate(t=get_source("offer_lines").value("total")).get(pk=line.pk).t
    assert value == Decimal("1.5")


def test_quotient_of_integers_is_not_truncated():
    deal = DealFactory(amount=Decimal(7))
    half = Quotient(F("amount"), Value(Decimal(2)), output_field=DecimalField(max_digits=30, decimal_places=10))
    assert Deal.objects.annotate(half=half).get(pk=deal.pk).half == Decimal("3.5")
