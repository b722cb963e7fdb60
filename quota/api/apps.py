from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "quota.api"
    label = "api"
