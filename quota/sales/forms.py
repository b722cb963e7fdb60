"""Forms for offers, orders and invoices.

Neither the number (sales.numbering gives it) nor an offer's totals (the sum of its lines) are typed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from quota.core.views import ActionForm, RecordForm
from quota.sales.models import Invoice, Offer, OfferLine, Order, Product


class OfferForm(RecordForm):
    class Meta:
        model = Offer
        fields = ["company", "deal", "owner", "status", "currency", "valid_until"]


class OrderForm(RecordForm):
    class Meta:
        model = Order
        fields = [
            "company",
            "deal",
            "offer",
            "owner",
            "status",
            "amount",
            "cost",
            "currency",
            "ordered_at",
            "external_id",
        ]


class InvoiceForm(RecordForm):
    class Meta:
        model = Invoice
        fields = [
            "company",
            "order",
            "owner",
            "status",
            "amount",
            "cost",
            "currency",
            "issued_at",
            "due_date",
            "paid_at",
            "external_id",
        ]


class OfferLineForm(ActionForm):
    """A product on an offer (`record`), new or the `line` being changed; sales.services checks and prices it."""

    product = forms.ModelChoiceField(label=gettext_lazy("product"), queryset=Product.objects.none())
    quantity = forms.DecimalField(label=gettext_lazy("quantity"), max_digits=12, decimal_places=3, initial=1)
    unit_price = forms.DecimalField(
        label=gettext_lazy("unit price"),
        max_digits=16,
        decimal_places=2,
        required=False,
    )
    discount_percent = forms.DecimalField(
        label=gettext_lazy("discount (%)"), max_digits=5, decimal_places=2, required=False, initial=0
    )

    def __init__(self, *args: Any, line: OfferLine | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = line
        # The price list: active products, and the product a line already has even if it was retired since.
        products = Q(is_active=True) | Q(pk=line.product_id) if line is not None else Q(is_active=True)
        cast(forms.ModelChoiceField, self.fields["product"]).queryset = Product.objects.filter(products)
        self.fields["unit_price"].help_text = _("Empty: the product's list price, in %(currency)s as the offer.") % {
            "currency": self.record.currency
        }
        if line is not None and not self.is_bound:
            self.initial.update(
                product=line.product_id,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
            )

    def clean_discount_percent(self) -> Decimal:
        return self.cleaned_data.get("discount_percent") or Decimal("0")
