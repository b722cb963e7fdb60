from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "quota.activities"
    label = "activities"

    def ready(self) -> None:
        from quota.activities.models import Activity
        from quota.activities.views import timeline_feed
        from quota.core import dataversions
        from quota.core.views import register_panel_feed

        register_panel_feed(timeline_feed)  # the timeline on every record page that has activities
        # A deal's hygiene flags read its own activities: a call logged on one deal leaves the others' pages kept.
        dataversions.track_rows(Activity, "deal")
