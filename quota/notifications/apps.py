from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "quota.notifications"
    label = "notifications"
