from django.contrib import admin

from quota.notifications.models import Notification, NotificationPreference


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "title", "created_at", "read_at")
    list_filter = ("kind",)
    search_fields = ("title", "dedupe_key", "user__username")
    raw_id_fields = ("user",)


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "daily_digest", "digest_sent_at")
    list_filter = ("daily_digest",)
    search_fields = ("user__username",)
    raw_id_fields = ("user",)
