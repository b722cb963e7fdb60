from quota.sales.views import InvoicePages, OfferPages, OrderPages

app_name = "sales"
urlpatterns = [*OfferPages.urls(), *OrderPages.urls(), *InvoicePages.urls()]
