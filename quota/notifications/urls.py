from django.urls import path

from quota.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.notification_list, name="list"),
    path("read/", views.notification_read, name="read_all"),
    path("menu/", views.notification_menu, name="menu"),
    path("digest/", views.digest_preference, name="digest"),
    path("<int:pk>/read/", views.notification_read, name="read"),
]
