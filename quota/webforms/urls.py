app_name = "webforms"
urlpatterns: list = []
