"""REST endpoints for webhooks: subscriptions (CRUD) and the delivery log (read-only, with redeliver).

Administrators and directors only: a subscription's secret and payloads carry every record's changes.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from quota.api.idempotency import IdempotentPosts, IdempotentSchema
from quota.api.permissions import allows
from quota.webhooks import services
from quota.webhooks.models import EVENT_CHOICES, WebhookAttempt, WebhookDelivery, WebhookSubscription

ManagesWebhooks = allows("webhooks.manage")


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_CHOICES), allow_empty=False, max_length=20)
    created_by: serializers.StringRelatedField = serializers.StringRelatedField()

    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "description", "events", "is_active", "secret", "created_by", "created_at"]
        read_only_fields = ["id", "secret", "created_by", "created_at"]

    def create(self, validated_data: dict[str, Any]) -> WebhookSubscription:
        return services.subscription_create(by=self.context["request"].user, **validated_data)

    def update(self, instance: WebhookSubscription, validated_data: dict[str, Any]) -> WebhookSubscription:
        return services.subscription_update(subscription=instance, by=self.context["request"].user, data=validated_data)


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "attempted_at", "duration_ms", "response_code", "response_excerpt", "error", "succeeded"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "uuid",
            "subscription",
            "event",
            "event_id",
            "payload",
            "status",
            "attempts",
            "response_code",
            "response_excerpt",
            "error",
            "next_attempt_at",
            "created_at",
            "last_attempt_at",
            "delivered_at",
            "redelivery_of",
            "attempt_log",
        ]
        read_only_fields = fields


class WebhookSubscriptionViewSet(IdempotentPosts, viewsets.ModelViewSet):
    """Who is told about which events. The signing secret is generated on creation."""

    schema = IdempotentSchema()
    permission_classes = [IsAuthenticated, ManagesWebhooks]
    serializer_class = WebhookSubscriptionSerializer
    queryset = WebhookSubscription.objects.select_related("created_by").order_by("-created_at", "pk")
    filterset_fields = ["is_active"]
    search_fields = ["url", "description"]
    ordering_fields = ["created_at", "url"]

    def perform_destroy(self, instance: WebhookSubscription) -> None:
        services.subscription_delete(subscription=instance, by=self.request.user)


class WebhookDeliveryViewSet(IdempotentPosts, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The delivery log: every event sent to every subscription, with each attempt."""

    schema = IdempotentSchema()
    permission_classes = [IsAuthenticated, ManagesWebhooks]
    serializer_class = WebhookDeliverySerializer
    queryset = WebhookDelivery.objects.prefetch_related("attempt_log").order_by("-created_at", "-pk")
    filterset_fields = ["subscription", "status", "event", "event_id"]
    ordering_fields = ["created_at", "next_attempt_at", "attempts"]

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, pk: str | None = None) -> Response:
        """Send this delivery's event again, as a new delivery with the same event id."""
        again = services.delivery_redeliver(delivery=self.get_object(), by=request.user)
        return Response(self.get_serializer(again).data, status=status.HTTP_202_ACCEPTED)
