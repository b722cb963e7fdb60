from django.urls import path

from quota.webforms import views

app_name = "webforms"
urlpatterns = [
    path("", views.WebFormListView.as_view(), name="list"),
    path("new/", views.WebFormCreateView.as_view(), name="create"),
    path("<int:pk>/", views.WebFormUpdateView.as_view(), name="edit"),
    path("f/<str:key>/", views.public_form, name="public"),
    path("f/<str:key>/json/", views.public_form_json, name="public-json"),
]
