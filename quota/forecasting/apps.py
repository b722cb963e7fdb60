from django.apps import AppConfig


class ForecastingConfig(AppConfig):
    name = "quota.forecasting"
    label = "forecasting"

    def ready(self) -> None:
        from quota.core.views import register_panel_feed
        from quota.forecasting.panels import win_probability_feed

        register_panel_feed(win_probability_feed)  # an open deal's win probability on its page
