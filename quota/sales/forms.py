"""Forms for offers, orders and invoices (an offer's totals come from its lines, so they are not typed)."""

from __future__ import annotations

from quota.core.views import RecordForm
from quota.sales.models import Invoice, Offer, Order


class OfferForm(RecordForm):
    class Meta:
        model = Offer
        fields = ["number", "company", "deal", "owner", "status", "currency", "valid_until"]


class OrderForm(RecordForm):
    class Meta:
        model = Order
        fields = [
            "number",
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
            "number",
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
