from django.apps import AppConfig


class ServiceConfig(AppConfig):
    name = "quota.service"
    label = "service"
