from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "quota.sales"
    label = "sales"
