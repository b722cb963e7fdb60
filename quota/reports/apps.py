from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "quota.reports"
    label = "reports"
