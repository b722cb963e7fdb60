from django.urls import path

from quota.activities.views import ActivityPages, QuickLogView, TaskStatusView

app_name = "activities"
urlpatterns = [
    *ActivityPages.urls(),
    path("log/deal/<int:pk>/", QuickLogView.as_view(link="deal"), name="quick_log_deal"),
    path("log/contact/<int:pk>/", QuickLogView.as_view(link="contact"), name="quick_log_contact"),
    path("log/company/<int:pk>/", QuickLogView.as_view(link="company"), name="quick_log_company"),
    path("<int:pk>/done/", TaskStatusView.as_view(pages=ActivityPages, done=True), name="task_done"),
    path("<int:pk>/reopen/", TaskStatusView.as_view(pages=ActivityPages, done=False), name="task_reopen"),
]
