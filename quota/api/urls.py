from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from quota.api import views
from quota.api.kpis import KpiViewSet, TargetProgressViewSet
from quota.webhooks.api import WebhookDeliveryViewSet, WebhookSubscriptionViewSet

router = DefaultRouter()
for prefix, viewset in [
    ("companies", views.CompanyViewSet),
    ("contacts", views.ContactViewSet),
    ("lead-sources", views.LeadSourceViewSet),
    ("leads", views.LeadViewSet),
    ("pipelines", views.PipelineViewSet),
    ("stages", views.StageViewSet),
    ("loss-reasons", views.LossReasonViewSet),
    ("churn-reasons", views.ChurnReasonViewSet),
    ("custom-fields", views.CustomFieldViewSet),
    ("deals", views.DealViewSet),
    ("deal-stage-changes", views.DealStageChangeReadOnly),
    ("products", views.ProductViewSet),
    ("offers", views.OfferViewSet),
    ("offer-lines", views.OfferLineViewSet),
    ("orders", views.OrderViewSet),
    ("invoices", views.InvoiceViewSet),
    ("activities", views.ActivityViewSet),
    ("cases", views.CaseViewSet),
    ("survey-answers", views.SurveyAnswerViewSet),
    ("campaigns", views.CampaignViewSet),
    ("campaign-recipients", views.CampaignRecipientViewSet),
    ("webhook-subscriptions", WebhookSubscriptionViewSet),
    ("webhook-deliveries", WebhookDeliveryViewSet),
    ("kpis", KpiViewSet),
    ("targets", TargetProgressViewSet),
]:
    router.register(prefix, viewset, basename=prefix)

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The interactive docs bring their own inline styles (and Redoc its inline start script and a worker):
    # the Content-Security-Policy is widened for these two pages only. Swagger UI's start script is served apart.
    path(
        "docs/",
        csp_update({"style-src": UNSAFE_INLINE})(SpectacularSwaggerSplitView.as_view(url_name="schema")),
        name="docs",
    ),
    path(
        "redoc/",
        csp_update({"script-src": UNSAFE_INLINE, "style-src": UNSAFE_INLINE, "worker-src": "blob:"})(
            SpectacularRedocView.as_view(url_name="schema")
        ),
        name="redoc",
    ),
    path("", include(router.urls)),
]
