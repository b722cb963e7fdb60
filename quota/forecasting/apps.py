from django.apps import AppConfig


class ForecastingConfig(AppConfig):
    name = "quota.forecasting"
    label = "forecasting"
