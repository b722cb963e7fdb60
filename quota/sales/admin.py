from django.contrib import admin

from quota.sales.models import Invoice, Offer, OfferLine, Order, Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "sku", "series", "price", "cost", "currency", "is_active"]
    search_fields = ["name", "sku"]


class OfferLineInline(admin.TabularInline):
    model = OfferLine
    extra = 0


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = ["number", "company", "status", "amount", "currency", "owner", "created_at"]
    list_filter = ["status"]
    search_fields = ["number", "company__name"]
    raw_id_fields = ["deal", "company", "owner"]
    readonly_fields = ["amount", "cost"]
    list_select_related = ["company", "owner"]
    inlines = [OfferLineInline]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "company", "status", "amount", "cost", "profit", "currency", "ordered_at"]
    list_filter = ["status"]
    search_fields = ["number", "company__name"]
    raw_id_fields = ["company", "deal", "offer", "owner"]
    list_select_related = ["company"]


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ["number", "company", "status", "amount", "cost", "profit", "currency", "issued_at", "paid_at"]
    list_filter = ["status"]
    search_fields = ["number", "company__name"]
    raw_id_fields = ["company", "order", "owner"]
    list_select_related = ["company"]
