from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "quota.activities"
    label = "activities"

    def ready(self) -> None:
        from quota.activities.views import timeline_feed
        from quota.core.views import register_panel_feed

        register_panel_feed(timeline_feed)  # the timeline on every record page that has activities
