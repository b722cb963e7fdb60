"""Offer, order and invoice pages."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from quota.activities.views import HasTimeline
from quota.core.views import Column, Panel, RecordPages, RelatedList
from quota.sales.filtersets import InvoiceFilterSet, OfferFilterSet, OrderFilterSet
from quota.sales.forms import InvoiceForm, OfferForm, OrderForm
from quota.sales.models import Invoice, Offer, Order


class DealTimeline(HasTimeline):
    """Sales documents show the activities of the deal they belong to."""

    @classmethod
    def activity_condition(cls, record: Any) -> Q | None:
        return Q(deal_id=record.deal_id) if record.deal_id else None


class OfferPages(DealTimeline, RecordPages):
    model = Offer
    slug = "offers"
    filterset_class = OfferFilterSet
    form_class = OfferForm
    search_fields = ("number", "company__name")
    related = ("company", "deal", "owner")
    badge_field = "status"
    columns = (
        Column("number", link=True, sort="number"),
        Column("company", sort="company__name"),
        Column("deal"),
        Column("status", sort="status"),
        Column("amount", sort="amount"),
        Column("owner", sort="owner__last_name"),
        Column("created_at", sort="created_at"),
        Column("valid_until", sort="valid_until"),
    )
    detail_fields = (
        Column("company"),
        Column("deal"),
        Column("owner"),
        Column("amount"),
        Column("cost"),
        Column("created_at"),
        Column("valid_until"),
    )
    related_lists = (RelatedList(gettext_lazy("Orders"), "quota.sales.views.OrderPages", "offer"),)

    @classmethod
    def panels(cls, request: HttpRequest, record: Offer) -> list[Panel]:
        lines = record.lines.select_related("product")
        return [
            Panel(template="sales/_offer_lines.html", title=gettext_lazy("Lines"), data={"lines": lines}),
            *super().panels(request, record),
        ]


class OrderPages(DealTimeline, RecordPages):
    model = Order
    slug = "orders"
    filterset_class = OrderFilterSet
    form_class = OrderForm
    search_fields = ("number", "external_id", "company__name")
    related = ("company", "deal", "owner")
    detail_related = ("offer",)
    badge_field = "status"
    columns = (
        Column("number", link=True, sort="number"),
        Column("company", sort="company__name"),
        Column("deal"),
        Column("status", sort="status"),
        Column("amount", sort="amount"),
        Column("profit", sort="profit"),
        Column("owner", sort="owner__last_name"),
        Column("ordered_at", sort="ordered_at"),
    )
    detail_fields = (
        Column("company"),
        Column("deal"),
        Column("offer"),
        Column("owner"),
        Column("amount"),
        Column("cost"),
        Column("profit"),
        Column("ordered_at"),
        Column("external_id"),
    )
    related_lists = (RelatedList(gettext_lazy("Invoices"), "quota.sales.views.InvoicePages", "order"),)


class InvoicePages(RecordPages):
    model = Invoice
    slug = "invoices"
    filterset_class = InvoiceFilterSet
    form_class = InvoiceForm
    search_fields = ("number", "external_id", "company__name")
    related = ("company", "order", "owner")
    badge_field = "status"
    columns = (
        Column("number", link=True, sort="number"),
        Column("company", sort="company__name"),
        Column("order"),
        Column("status", sort="status"),
        Column("amount", sort="amount"),
        Column("due_date", sort="due_date"),
        Column("paid_at", sort="paid_at"),
        Column("owner", sort="owner__last_name"),
        Column("issued_at", sort="issued_at"),
    )
    detail_fields = (
        Column("company"),
        Column("order"),
        Column("owner"),
        Column("amount"),
        Column("cost"),
        Column("profit"),
        Column("issued_at"),
        Column("due_date"),
        Column("paid_at"),
        Column("external_id"),
    )
