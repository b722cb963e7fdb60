from django.urls import path

from quota.audit.views import AuditExportView, AuditLogView

app_name = "audit"
urlpatterns = [
    path("", AuditLogView.as_view(), name="log"),
    path("export/", AuditExportView.as_view(), name="export"),
]
