"""REST endpoints: one viewset per record, restricted to what the caller may see (core.visibility)."""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from quota.activities.filtersets import ActivityFilterSet
from quota.activities.models import Activity
from quota.api import serializers as s
from quota.api.history import HistoryMixin
from quota.api.idempotency import IdempotentPosts, IdempotentSchema
from quota.api.permissions import ChangesTheRecord, ConfigurationWrite, ReadOnlyForViewers
from quota.core.services import record_delete
from quota.crm import services as crm
from quota.crm.filtersets import CompanyFilterSet, ContactFilterSet, DealFilterSet, DealStageChangeFilterSet, LeadFilterSet
from quota.crm.models import (
    ChurnReason,
    Company,
    Contact,
    CustomField,
    Deal,
    DealStageChange,
    Lead,
    LeadSource,
    LossReason,
    Pipeline,
    Stage,
)
from quota.marketing.filtersets import CampaignFilterSet
from quota.marketing.models import Campaign, CampaignRecipient
from quota.sales import services as sales
from quota.sales.filtersets import InvoiceFilterSet, OfferFilterSet, OrderFilterSet, ProductFilterSet
from quota.sales.models import Invoice, Offer, OfferLine, Order, Product
from quota.service.filtersets import CaseFilterSet, SurveyAnswerFilterSet
from quota.service.models import Case, SurveyAnswer


class RecordViewSet(IdempotentPosts, viewsets.ModelViewSet):
    """Create, read, update, list and delete one kind of record; POSTs take an Idempotency-Key (api.idempotency)."""

    schema = IdempotentSchema()
    permission_classes = [IsAuthenticated, ReadOnlyForViewers, ChangesTheRecord]
    model: type[models.Model]
    related: tuple[str, ...] = ()

    def get_queryset(self) -> Any:
        queryset = self.model._default_manager.all()
        if hasattr(queryset, "visible_to"):
            queryset = queryset.visible_to(self.request.user)
        return queryset.select_related(*self.related).order_by(*(self.model._meta.ordering or []), "pk")

    def perform_destroy(self, instance: models.Model) -> None:
        record_delete(instance=instance, by=self.request.user)


class ConfigurationViewSet(RecordViewSet):
    permission_classes = [IsAuthenticated, ConfigurationWrite, ChangesTheRecord]

    def perform_destroy(self, instance: models.Model) -> None:
        record_delete(instance=instance, by=None)


# Records whose changes are audited also answer `GET {id}/history/`. No docstrings: the schema describes
# their operations with the base viewsets' own.
class HistoryRecordViewSet(HistoryMixin, RecordViewSet):
    pass


class HistoryConfigurationViewSet(HistoryMixin, ConfigurationViewSet):
    pass


def viewset(
    model_: type[models.Model],
    serializer: type,
    *,
    filterset: Any = None,
    search: tuple[str, ...] = (),
    ordering: tuple[str, ...] = (),
    related: tuple[str, ...] = (),
    base: type = RecordViewSet,
) -> type:
    attrs: dict[str, Any] = {
        "model": model_,
        "serializer_class": serializer,
        "search_fields": list(search),
        "ordering_fields": list(ordering) or "__all__",
        "related": related,
        "queryset": model_._default_manager.none(),  # for the schema; get_queryset restricts per user
    }
    if filterset is not None:
        attrs["filterset_class"] = filterset
    else:
        attrs["filterset_fields"] = []
    return type(f"{model_.__name__}ViewSet", (base,), attrs)


CompanyViewSet = viewset(
    Company,
    s.CompanySerializer,
    filterset=CompanyFilterSet,
    search=("name", "domain"),
    related=("owner",),
    base=HistoryRecordViewSet,
)
ContactViewSet = viewset(
    Contact,
    s.ContactSerializer,
    filterset=ContactFilterSet,
    search=("first_name", "last_name", "email"),
    base=HistoryRecordViewSet,
)
LeadSourceViewSet = viewset(LeadSource, s.LeadSourceSerializer, base=ConfigurationViewSet)
PipelineViewSet = viewset(Pipeline, s.PipelineSerializer, base=ConfigurationViewSet)
StageViewSet = viewset(Stage, s.StageSerializer, base=ConfigurationViewSet)
LossReasonViewSet = viewset(LossReason, s.LossReasonSerializer, base=ConfigurationViewSet)
ChurnReasonViewSet = viewset(ChurnReason, s.ChurnReasonSerializer, base=ConfigurationViewSet)
CustomFieldViewSet = viewset(CustomField, s.CustomFieldSerializer, base=HistoryConfigurationViewSet)
ProductViewSet = viewset(
    Product, s.ProductSerializer, filterset=ProductFilterSet, search=("name", "sku"), base=ConfigurationViewSet
)
OfferViewSet = viewset(Offer, s.OfferSerializer, filterset=OfferFilterSet, search=("number",))
OrderViewSet = viewset(Order, s.OrderSerializer, filterset=OrderFilterSet, search=("number", "external_id"))
InvoiceViewSet = viewset(Invoice, s.InvoiceSerializer, filterset=InvoiceFilterSet, search=("number", "external_id"))
ActivityViewSet = viewset(Activity, s.ActivitySerializer, filterset=ActivityFilterSet, search=("subject",))
CaseViewSet = viewset(Case, s.CaseSerializer, filterset=CaseFilterSet, search=("number", "subject"))
SurveyAnswerViewSet = viewset(SurveyAnswer, s.SurveyAnswerSerializer, filterset=SurveyAnswerFilterSet)
CampaignViewSet = viewset(Campaign, s.CampaignSerializer, filterset=CampaignFilterSet, search=("name",))
CampaignRecipientViewSet = viewset(CampaignRecipient, s.CampaignRecipientSerializer)
DealStageChangeViewSet = viewset(DealStageChange, s.DealStageChangeSerializer, filterset=DealStageChangeFilterSet)


class DealStageChangeReadOnly(DealStageChangeViewSet):  # type: ignore[valid-type,misc]
    """The stage history is written by the deal actions only."""

    http_method_names = ["get", "head", "options"]


_OfferLineBase: Any = viewset(OfferLine, s.OfferLineSerializer)
_LeadBase: Any = viewset(Lead, s.LeadSerializer, filterset=LeadFilterSet, search=("title", "email", "company_name"))
_DealBase: Any = viewset(
    Deal,
    s.DealSerializer,
    filterset=DealFilterSet,
    search=("title", "company__name"),
    related=("owner", "stage", "company"),
    base=HistoryRecordViewSet,
)


class OfferLineViewSet(_OfferLineBase):
    def perform_destroy(self, instance: OfferLine) -> None:
        sales.offer_line_delete(by=self.request.user, line=instance)


class LeadViewSet(_LeadBase):
    @extend_schema(request=s.LeadConvertSerializer, responses={201: s.DealSerializer})
    @action(detail=True, methods=["post"])
    def convert(self, request: Request, pk: str | None = None) -> Response:
        """Convert the lead into a contact, a company and an open deal."""
        lead = self.get_object()  # first: a refused caller hears so before any check of the payload
        deal = crm.lead_convert(lead=lead, by=request.user, **s.validated(s.LeadConvertSerializer, request.data))
        return Response(s.DealSerializer(deal, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED)


class DealViewSet(_DealBase):
    def _respond(self, deal: Deal) -> Response:
        return Response(s.DealSerializer(deal, context=self.get_serializer_context()).data)

    @extend_schema(request=s.DealMoveSerializer, responses=s.DealSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: str | None = None) -> Response:
        """Move an open deal to another stage of its pipeline (recorded in its history)."""
        deal = self.get_object()  # first: a refused caller hears so before any check of the payload
        stage = s.validated(s.DealMoveSerializer, request.data)["stage"]
        return self._respond(crm.deal_move_stage(deal=deal, stage=stage, by=request.user))

    @extend_schema(request=s.DealWinSerializer, responses=s.DealSerializer)
    @action(detail=True, methods=["post"])
    def win(self, request: Request, pk: str | None = None) -> Response:
        """Mark the deal won."""
        deal = self.get_object()
        data = s.validated(s.DealWinSerializer, request.data)
        return self._respond(crm.deal_close_won(deal=deal, by=request.user, at=data.get("closed_at"), amount=data.get("amount")))

    @extend_schema(request=s.DealLoseSerializer, responses=s.DealSerializer)
    @action(detail=True, methods=["post"])
    def lose(self, request: Request, pk: str | None = None) -> Response:
        """Mark the deal lost, with its reason."""
        deal = self.get_object()
        data = s.validated(s.DealLoseSerializer, request.data)
        deal = crm.deal_close_lost(
            deal=deal,
            by=request.user,
            reason=data["loss_reason"],
            note=data["note"],
            at=data.get("closed_at"),
            follow_up_on=data.get("follow_up_on"),
        )
        return self._respond(deal)

    @extend_schema(request=None, responses=s.DealSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        """Reopen a won or lost deal."""
        return self._respond(crm.deal_reopen(deal=self.get_object(), by=request.user))
