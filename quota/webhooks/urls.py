from django.urls import path

from quota.webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("", views.SubscriptionListView.as_view(), name="list"),
    path("new/", views.SubscriptionCreateView.as_view(), name="create"),
    path("<int:pk>/", views.SubscriptionDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.SubscriptionUpdateView.as_view(), name="edit"),
    path("deliveries/<int:pk>/", views.DeliveryDetailView.as_view(), name="delivery"),
    path("deliveries/<int:pk>/redeliver/", views.DeliveryRedeliverView.as_view(), name="redeliver"),
]
