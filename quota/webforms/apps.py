from django.apps import AppConfig


class WebformsConfig(AppConfig):
    name = "quota.webforms"
    label = "webforms"
