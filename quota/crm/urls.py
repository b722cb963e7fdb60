from django.urls import path

from quota.crm.customer_views import customers, customers_export
from quota.crm.views import (
    BoardView,
    CompanyPages,
    ContactPages,
    DealLoseView,
    DealMoveView,
    DealPages,
    DealReopenView,
    DealWinView,
    LeadConvertView,
    LeadDisqualifyView,
    LeadPages,
)

app_name = "crm"
urlpatterns = [
    *CompanyPages.urls(),
    *ContactPages.urls(),
    *LeadPages.urls(),
    *DealPages.urls(),
    path("board/", BoardView.as_view(), name="board"),
    path("customers/", customers, name="customers"),
    path("customers/export/", customers_export, name="customers_export"),
    path("deals/<int:pk>/move/", DealMoveView.as_view(pages=DealPages), name="deal_move"),
    path("deals/<int:pk>/win/", DealWinView.as_view(pages=DealPages), name="deal_win"),
    path("deals/<int:pk>/lose/", DealLoseView.as_view(pages=DealPages), name="deal_lose"),
    path("deals/<int:pk>/reopen/", DealReopenView.as_view(pages=DealPages), name="deal_reopen"),
    path("leads/<int:pk>/convert/", LeadConvertView.as_view(pages=LeadPages), name="lead_convert"),
    path("leads/<int:pk>/disqualify/", LeadDisqualifyView.as_view(pages=LeadPages), name="lead_disqualify"),
]
