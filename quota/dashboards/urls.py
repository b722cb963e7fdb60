from django.urls import path

from quota.dashboards import views

app_name = "dashboards"
urlpatterns = [
    path("targets/", views.targets, name="targets"),
    path("targets/export/", views.targets_export, name="targets_export"),
    path("builder/", views.builder, name="builder"),
    path("builder/preview/", views.builder_preview, name="builder_preview"),
    path("cards/add/", views.card_add, name="card_add"),
    path("cards/<int:pk>/remove/", views.card_remove, name="card_remove"),
    path("kpi/<str:key>/", views.kpi_detail, name="kpi"),
    path("kpi/<str:key>/export/", views.kpi_export, name="kpi_export"),
    path("<str:board>/", views.board, name="board"),
]
