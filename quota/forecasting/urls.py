from django.urls import path

from quota.forecasting import views

app_name = "forecasting"

urlpatterns = [
    path("", views.forecast, name="forecast"),
    path("call/", views.call, name="call"),
]
