"""Write paths for offers: an offer's totals are always the sum of its lines."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import DecimalField, ExpressionWrapper, F, Sum, Value
from django.db.models.functions import Coalesce

from quota.core.services import record_create, record_delete, record_update, require_change
from quota.sales.models import Offer, OfferLine

_MONEY = DecimalField(max_digits=20, decimal_places=4)


def offer_recalculate(*, offer: Offer) -> Offer:
    """Store the offer's total and cost, summed over its lines in the database.

    The discount is multiplied by 0.01 rather than divided by 100: SQLite keeps a whole-number
    decimal as an integer and would divide it as one.
    """
    line_total = ExpressionWrapper(
        F("quantity") * F("unit_price") * (Value(Decimal("1")) - F("discount_percent") * Value(Decimal("0.01"))),
        output_field=_MONEY,
    )
    line_cost = ExpressionWrapper(F("quantity") * F("unit_cost"), output_field=_MONEY)
    totals = OfferLine.objects.filter(offer=offer).aggregate(
        amount=Coalesce(Sum(line_total), Value(Decimal("0")), output_field=_MONEY),
        cost=Coalesce(Sum(line_cost), Value(Decimal("0")), output_field=_MONEY),
    )
    offer.amount = Decimal(totals["amount"]).quantize(Decimal("0.01"))
    offer.cost = Decimal(totals["cost"]).quantize(Decimal("0.01"))
    offer.save(update_fields=["amount", "cost"])
    return offer


@transaction.atomic
def offer_line_create(*, by: Any, offer: Offer, **fields: Any) -> OfferLine:
    require_change(by, offer)
    product = fields.get("product")
    if product is not None:
        fields.setdefault("unit_price", product.price)
        fields.setdefault("unit_cost", product.cost)
    line = record_create(model=OfferLine, by=None, offer=offer, **fields)
    offer_recalculate(offer=offer)
    return line


@transaction.atomic
def offer_line_update(*, by: Any, line: OfferLine, data: dict[str, Any]) -> OfferLine:
    require_change(by, line.offer)
    record_update(instance=line, by=None, data=data)
    offer_recalculate(offer=line.offer)
    return line


@transaction.atomic
def offer_line_delete(*, by: Any, line: OfferLine) -> None:
    offer = line.offer
    require_change(by, offer)
    record_delete(instance=line, by=None)
    offer_recalculate(offer=offer)
