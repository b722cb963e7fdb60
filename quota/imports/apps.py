from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "quota.imports"
    label = "imports"
