import django_filters as filters

from quota.core.filtersets import FilterSet, owner_team_filter
from quota.sales.models import Invoice, Offer, Order, Product


class ProductFilterSet(FilterSet):
    name = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Product
        fields = ["name", "series", "is_active", "sku"]


class OfferFilterSet(FilterSet):
    team = owner_team_filter()
    kpi_source = "offers"

    class Meta:
        model = Offer
        fields = ["status", "company", "deal", "owner"]


class OrderFilterSet(FilterSet):
    ordered_after = filters.IsoDateTimeFilter(field_name="ordered_at", lookup_expr="gte")
    ordered_before = filters.IsoDateTimeFilter(field_name="ordered_at", lookup_expr="lt")
    team = owner_team_filter()
    kpi_source = "orders"

    class Meta:
        model = Order
        fields = ["status", "company", "deal", "owner", "external_id"]


class InvoiceFilterSet(FilterSet):
    issued_after = filters.IsoDateTimeFilter(field_name="issued_at", lookup_expr="gte")
    issued_before = filters.IsoDateTimeFilter(field_name="issued_at", lookup_expr="lt")
    team = owner_team_filter()
    kpi_source = "invoices"

    class Meta:
        model = Invoice
        fields = ["status", "company", "order", "owner", "external_id"]
