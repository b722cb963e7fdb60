"""Write paths for sales documents: each is numbered when created; an offer's totals are always the sum of its lines."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import DecimalField, ExpressionWrapper, F, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from quota.core.money import rate_on
from quota.core.services import record_create, record_delete, record_update, require_change
from quota.sales.models import Invoice, Offer, OfferLine, Order, Product
from quota.sales.numbering import number_document

_MONEY = DecimalField(max_digits=20, decimal_places=4)


@transaction.atomic
def document_create(*, model: type[Offer | Order | Invoice], by: Any, **fields: Any) -> Any:
    """Create an offer, order or invoice with the next number of its kind and year (see sales.numbering).

    A number given (an import, a document brought over from another system) is kept as it is.
    """
    draft = model(**fields)
    number_document(draft)
    return record_create(model=model, by=by, **{**fields, "number": draft.number})


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


def product_price_in(*, product: Product, offer: Offer) -> tuple[Decimal, Decimal]:
    """The product's list price and unit cost in the offer's currency.

    Products are priced in their own currency; an offer in another one converts at the rates
    fixed on the offer's date (its own `exchange_rate`), as the offer's total is reported.
    """
    if product.currency == offer.currency:
        return product.price, product.cost
    try:
        rate = rate_on(product.currency, offer.created_at.date()) / offer.exchange_rate
    except ValidationError as exc:
        raise ValidationError({"product": exc.messages}) from exc
    cent = Decimal("0.01")
    return (product.price * rate).quantize(cent), (product.cost * rate).quantize(cent)


def _require_open_lines(by: Any, offer: Offer) -> None:
    require_change(by, offer)
    if offer.lines_locked:
        raise PermissionDenied(
            _("Offer %(offer)s is %(status)s: its lines stay as the customer answered them. Create a new offer for other lines.")
            % {"offer": offer, "status": offer.get_status_display().lower()}
        )


def _check_line(fields: dict[str, Any], *, product_changed: bool) -> None:
    """What the line's own constraints would refuse, said in words people understand."""
    errors: dict[str, str] = {}
    product = fields.get("product")
    if product_changed and product is not None and not product.is_active:
        errors["product"] = _("%(product)s is no longer on the price list.") % {"product": product}
    quantity = fields.get("quantity")
    if quantity is not None and quantity <= 0:
        errors["quantity"] = _("The quantity must be more than zero.")
    unit_price = fields.get("unit_price")
    if unit_price is not None and unit_price < 0:
        errors["unit_price"] = _("The unit price cannot be negative.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def offer_line_create(*, by: Any, offer: Offer, **fields: Any) -> OfferLine:
    """Add a product to an offer; without a unit price or cost, the product's list ones in the offer's currency."""
    _require_open_lines(by, offer)
    _check_line(fields, product_changed=True)
    product = fields.get("product")
    if product is not None:
        price, cost = product_price_in(product=product, offer=offer)
        if fields.get("unit_price") is None:
            fields["unit_price"] = price
        if fields.get("unit_cost") is None:
            fields["unit_cost"] = cost
    line = record_create(model=OfferLine, by=None, offer=offer, **fields)
    offer_recalculate(offer=offer)
    return line


@transaction.atomic
def offer_line_update(*, by: Any, line: OfferLine, data: dict[str, Any]) -> OfferLine:
    """Change a line. A new product brings its list price and cost unless they are given; no price means the list price."""
    _require_open_lines(by, line.offer)
    data = dict(data)
    product = data.get("product", line.product)
    product_changed = product.pk != line.product_id
    _check_line(data, product_changed=product_changed)
    if product_changed or ("unit_price" in data and data["unit_price"] is None):
        price, cost = product_price_in(product=product, offer=line.offer)
        if data.get("unit_price") is None:
            data["unit_price"] = price
        if product_changed and data.get("unit_cost") is None:
            data["unit_cost"] = cost
    record_update(instance=line, by=None, data=data)
    offer_recalculate(offer=line.offer)
    return line


@transaction.atomic
def offer_line_delete(*, by: Any, line: OfferLine) -> None:
    offer = line.offer
    _require_open_lines(by, offer)
    record_delete(instance=line, by=None)
    offer_recalculate(offer=offer)
