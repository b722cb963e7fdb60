from typing import Any

from django.contrib import admin

from quota.sales.models import DocumentCounter, DocumentNumbering, Invoice, Offer, OfferLine, Order, Product
from quota.sales.numbering import number_document


@admin.register(DocumentNumbering)
class DocumentNumberingAdmin(admin.ModelAdmin):
    """Where an administrator sets the prefix of offer, order and invoice numbers."""

    list_display = ["kind", "prefix"]
    list_editable = ["prefix"]
    list_display_links = ["kind"]


@admin.register(DocumentCounter)
class DocumentCounterAdmin(admin.ModelAdmin):
    """The counters are shown, never typed: a changed counter would leave a gap or give a number twice."""

    list_display = ["kind", "year", "last"]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "sku", "series", "price", "cost", "currency", "is_active"]
    search_fields = ["name", "sku"]


class OfferLineInline(admin.TabularInline):
    model = OfferLine
    extra = 0


class NumberedAdmin(admin.ModelAdmin):
    """A document added here takes the next number too (the admin's change view runs in one transaction)."""

    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        if not change:
            number_document(obj)
        super().save_model(request, obj, form, change)


@admin.register(Offer)
class OfferAdmin(NumberedAdmin):
    list_display = ["number", "company", "status", "amount", "currency", "owner", "created_at"]
    list_filter = ["status"]
    search_fields = ["number", "company__name"]
    raw_id_fields = ["deal", "company", "owner"]
    readonly_fields = ["number", "amount", "cost"]
    list_select_related = ["company", "owner"]
    inlines = [OfferLineInline]


@admin.register(Order)
class OrderAdmin(NumberedAdmin):
    list_display = ["number", "company", "status", "amount", "cost", "profit", "currency", "ordered_at"]
    list_filter = ["status"]
    search_fields = ["number", "company__name"]
    raw_id_fields = ["company", "deal", "offer", "owner"]
    readonly_fields = ["number"]
    list_select_related = ["company"]


@admin.register(Invoice)
class InvoiceAdmin(NumberedAdmin):
    list_display = ["number", "company", "status", "amount", "cost", "profit", "currency", "issued_at", "paid_at"]
    list_filter = ["status"]
    search_fields = ["number", "company__name"]
    raw_id_fields = ["company", "order", "owner"]
    readonly_fields = ["number"]
    list_select_related = ["company"]
