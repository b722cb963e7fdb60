"""Pages for webhooks: subscriptions, their secret and signature scheme, and the delivery log."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, FormView, ListView

from quota.core.views import PermissionRequired
from quota.webhooks import services
from quota.webhooks.forms import SubscriptionForm
from quota.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription

LOG_PAGE_SIZE = 50


class WebhookAccess(PermissionRequired):
    permission_required = "webhooks.manage"


class SubscriptionListView(WebhookAccess, ListView):
    template_name = "webhooks/subscription_list.html"
    context_object_name = "subscriptions"
    queryset = WebhookSubscription.objects.select_related("created_by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        deliveries = WebhookDelivery.objects.select_related("subscription")
        status = self.request.GET.get("status", "")
        if status in DeliveryStatus.values:
            deliveries = deliveries.filter(status=status)
        page = Paginator(deliveries, LOG_PAGE_SIZE).get_page(self.request.GET.get("page"))
        return super().get_context_data(**kwargs, page=page, status=status, statuses=DeliveryStatus.choices)


class SubscriptionCreateView(WebhookAccess, FormView):
    template_name = "webhooks/subscription_form.html"
    form_class = SubscriptionForm

    def form_valid(self, form: SubscriptionForm) -> HttpResponse:
        try:
            subscription = services.subscription_create(by=self.request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error)
            return self.form_invalid(form)
        messages.success(self.request, _("Subscription created. Give the receiver its signing secret."))
        return redirect("webhooks:detail", pk=subscription.pk)


class SubscriptionUpdateView(WebhookAccess, FormView):
    template_name = "webhooks/subscription_form.html"
    form_class = SubscriptionForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.subscription = get_object_or_404(WebhookSubscription, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self) -> dict[str, Any]:
        s = self.subscription
        return {"url": s.url, "description": s.description, "events": s.events, "is_active": s.is_active}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(**kwargs, subscription=self.subscription)

    def form_valid(self, form: SubscriptionForm) -> HttpResponse:
        try:
            services.subscription_update(subscription=self.subscription, by=self.request.user, data=form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error)
            return self.form_invalid(form)
        messages.success(self.request, _("Subscription saved."))
        return redirect("webhooks:detail", pk=self.subscription.pk)


class SubscriptionDetailView(WebhookAccess, DetailView):
    template_name = "webhooks/subscription_detail.html"
    context_object_name = "subscription"
    queryset = WebhookSubscription.objects.select_related("created_by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        deliveries = self.object.deliveries.all()
        page = Paginator(deliveries, LOG_PAGE_SIZE).get_page(self.request.GET.get("page"))
        return super().get_context_data(**kwargs, page=page)


class DeliveryDetailView(WebhookAccess, DetailView):
    template_name = "webhooks/delivery_detail.html"
    context_object_name = "delivery"
    queryset = WebhookDelivery.objects.select_related("subscription", "redelivery_of").prefetch_related("attempt_log")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        body = services.delivery_body(self.object).decode()
        return super().get_context_data(**kwargs, body=body)


class DeliveryRedeliverView(WebhookAccess, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        delivery = get_object_or_404(WebhookDelivery.objects.select_related("subscription"), pk=pk)
        try:
            again = services.delivery_redeliver(delivery=delivery, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return HttpResponseRedirect(reverse("webhooks:delivery", args=[delivery.pk]))
        messages.success(request, _("The event is being sent again."))
        return HttpResponseRedirect(reverse("webhooks:delivery", args=[again.pk]))
