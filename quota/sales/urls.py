from django.urls import path

from quota.sales.views import InvoicePages, OfferLineDeleteView, OfferLineView, OfferPages, OrderPages

app_name = "sales"
urlpatterns = [
    *OfferPages.urls(),
    *OrderPages.urls(),
    *InvoicePages.urls(),
    path("offers/<int:pk>/lines/new/", OfferLineView.as_view(pages=OfferPages), name="offer_line_add"),
    path("offers/<int:pk>/lines/<int:line_pk>/edit/", OfferLineView.as_view(pages=OfferPages), name="offer_line_edit"),
    path("offers/<int:pk>/lines/<int:line_pk>/delete/", OfferLineDeleteView.as_view(pages=OfferPages), name="offer_line_delete"),
]
