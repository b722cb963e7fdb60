from django.urls import path

from quota.kpi import views

app_name = "kpi"
urlpatterns = [
    path("glossary/", views.glossary, name="glossary"),
]
