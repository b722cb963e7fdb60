from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "quota.dashboards"
    label = "dashboards"
