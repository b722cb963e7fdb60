"""Offer, order and invoice pages."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_htmx.http import reswap, retarget

from quota.core.htmx import is_htmx
from quota.core.views import (
    Column,
    Panel,
    RecordActionView,
    RecordPages,
    RecordView,
    RelatedList,
    column_label,
    redirect_after_change,
)
from quota.sales import services
from quota.sales.filtersets import InvoiceFilterSet, OfferFilterSet, OrderFilterSet
from quota.sales.forms import InvoiceForm, OfferForm, OfferLineForm, OrderForm
from quota.sales.models import Invoice, Offer, OfferLine, Order


class DealTimeline:
    """Sales documents show the activities of the deal they belong to."""

    @classmethod
    def activity_condition(cls, record: Any) -> Q | None:
        return Q(deal_id=record.deal_id) if record.deal_id else None


class NumberedPages(RecordPages):
    """Pages of a sales document: a new one takes the next number of its kind (sales.numbering), never typed."""

    @classmethod
    def create(cls, *, by: Any, data: dict[str, Any]) -> Any:
        return services.document_create(model=cast(Any, cls.model), by=by, **data)


class OfferPages(DealTimeline, NumberedPages):
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
        return [lines_panel(record), *super().panels(request, record)]


def lines_panel(offer: Offer) -> Panel:
    """The offer's lines with their total; people who may change the offer add, edit and remove them in place."""
    lines = offer.lines.select_related("product")
    return Panel(template="sales/_offer_lines.html", title=gettext_lazy("Lines"), data={"lines": lines})


class OfferLineView(RecordActionView[Offer, OfferLineForm]):
    """Add a line to an offer, or change one (`line_pk`), in place on the offer's page (given `pages=OfferPages`)."""

    form_class = OfferLineForm
    submit_label = gettext_lazy("Save")
    line: OfferLine | None = None

    def get(self, request: HttpRequest, pk: int, line_pk: int | None = None) -> HttpResponse:
        self.line_pk = line_pk
        return super().get(request, pk)

    def post(self, request: HttpRequest, pk: int, line_pk: int | None = None) -> HttpResponse:
        self.line_pk = line_pk
        return super().post(request, pk)

    def get_record(self, pk: int) -> Offer:
        offer = super().get_record(pk)
        if self.line_pk is not None:
            self.line = get_object_or_404(OfferLine.objects.select_related("product"), offer=offer, pk=self.line_pk)
        self.title = _("Change the line") if self.line else _("Add a line")
        return offer

    def get_form(self, record: Any, *, data: Any = None, initial: dict[str, Any] | None = None) -> OfferLineForm:
        return OfferLineForm(data, initial=initial, user=self.request.user, record=record, line=self.line)

    def perform(self, record: Offer, form: OfferLineForm) -> HttpResponse:
        if self.line is None:
            line = services.offer_line_create(by=self.request.user, offer=record, **form.cleaned_data)
            done = _("%(line)s added.") % {"line": line}
        else:
            line = services.offer_line_update(by=self.request.user, line=self.line, data=form.cleaned_data)
            done = _("%(line)s saved.") % {"line": line}
        return lines_changed(self.request, record, done)


class OfferLineDeleteView(RecordView):
    """Remove a line from an offer (a POST from the line's Remove button)."""

    def post(self, request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
        offer = self.get_record(pk)
        line = get_object_or_404(OfferLine.objects.select_related("product"), offer=offer, pk=line_pk)
        services.offer_line_delete(by=request.user, line=line)
        return lines_changed(request, offer, _("%(line)s removed.") % {"line": line})


def lines_changed(request: HttpRequest, offer: Offer, done: str) -> HttpResponse:
    """After a line changed: HTMX gets the lines panel and the summary's new totals; a plain request the offer's page."""
    if not is_htmx(request):
        messages.success(request, done)
        return redirect_after_change(request, reverse("sales:offer_detail", args=[offer.pk]))
    offer.refresh_from_db(fields=["amount", "cost"])
    totals = [(column_label(Offer, c), c) for c in OfferPages.detail_fields if c.accessor in ("amount", "cost")]
    context = {"panel": lines_panel(offer), "record": offer, "may_change": True, "done": done, "totals": totals}
    response = render(request, "sales/_offer_lines_changed.html", context)
    return reswap(retarget(response, "#offer-lines"), "outerHTML")


class OrderPages(DealTimeline, NumberedPages):
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


class InvoicePages(NumberedPages):
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
