from django.urls import path

from quota.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.report_list, name="report_list"),
    path("new/", views.report_form, name="report_create"),
    path("<int:pk>/", views.report_detail, name="report_detail"),
    path("<int:pk>/edit/", views.report_form, name="report_edit"),
    path("<int:pk>/send/", views.report_send, name="report_send"),
    path("<int:pk>/preview/", views.report_preview, name="report_preview"),
    path("<int:pk>/download/<str:fmt>/", views.report_download, name="report_download"),
    path("deliveries/<int:pk>/", views.delivery_progress, name="delivery_progress"),
    path("deliveries/<int:pk>/<str:fmt>/", views.delivery_file, name="delivery_file"),
]
