from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "quota.activities"
    label = "activities"
