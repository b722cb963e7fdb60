from django.apps import AppConfig


class KpiConfig(AppConfig):
    name = "quota.kpi"
    label = "kpi"
