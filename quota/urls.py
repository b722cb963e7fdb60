from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from quota.core.views import healthz
from quota.dashboards import views as dashboard_views

urlpatterns = [
    path("", dashboard_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("crm/", include("quota.crm.urls")),
    path("sales/", include("quota.sales.urls")),
    path("activities/", include("quota.activities.urls")),
    path("service/", include("quota.service.urls")),
    path("marketing/", include("quota.marketing.urls")),
    path("dashboards/", include("quota.dashboards.urls")),
    path("kpi/", include("quota.kpi.urls")),
    path("forecast/", include("quota.forecasting.urls")),
    path("forms/", include("quota.webforms.urls")),
    path("webhooks/", include("quota.webhooks.urls")),
    path("reports/", include("quota.reports.urls")),
    path("notifications/", include("quota.notifications.urls")),
    path("imports/", include("quota.imports.urls")),
    path("audit/", include("quota.audit.urls")),
    path("search/", include("quota.search.urls")),
    # The API's first version, documented by the schema; /api/ stays the same routes for clients written before it.
    # /api/ comes last so that reverse() keeps giving its addresses.
    path("api/v1/", include("quota.api.urls")),
    path("api/", include("quota.api.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]
# A refused page is the styled 403 page (an HTMX request gets its message only; the API answers JSON itself).
handler403 = "quota.core.views.permission_denied"

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
