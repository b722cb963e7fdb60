from quota.service.views import CasePages

app_name = "service"
urlpatterns = [*CasePages.urls()]
