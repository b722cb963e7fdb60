from django.urls import path

from quota.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.UploadView.as_view(), name="start"),
    path("<int:pk>/map/", views.MapView.as_view(), name="map"),
    path("<int:pk>/progress/", views.ProgressView.as_view(), name="progress"),
    path("<int:pk>/report/", views.ReportView.as_view(), name="report"),
    path("<int:pk>/commit/", views.CommitView.as_view(), name="commit"),
    path("<int:pk>/result/", views.ReportView.as_view(), name="result"),
    path("<int:pk>/restart/", views.RestartView.as_view(), name="restart"),
    path("runs/", views.RunListView.as_view(), name="run_list"),
    path("runs/<int:pk>/", views.RunDetailView.as_view(), name="run_detail"),
]
