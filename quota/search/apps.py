from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "quota.search"
    label = "search"
