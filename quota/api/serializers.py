"""Serializers: they describe records; writes go to the domain services."""

from __future__ import annotations

from typing import Any

from django.db import models
from phonenumber_field.modelfields import PhoneNumberField as PhoneNumberModelField
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers

from quota.activities.models import Activity
from quota.api.fields import BoundedJSONField, VisibleRelatedField
from quota.core.services import record_create, record_update
from quota.crm import services as crm
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
from quota.marketing.models import Campaign, CampaignRecipient
from quota.sales import services as sales
from quota.sales.models import Invoice, Offer, OfferLine, Order, Product
from quota.service import services as service
from quota.service.models import Case, SurveyAnswer


def validated(serializer_class: type[serializers.Serializer], data: Any) -> Any:
    """`data` (a payload, query parameters) as `serializer_class` reads it; invalid data is answered 400, each field's reason."""
    checked = serializer_class(data=data)
    checked.is_valid(raise_exception=True)
    return checked.validated_data


class RecordSerializer(serializers.ModelSerializer):
    """Base: foreign keys limited to visible records, the owner defaults to the caller, writes through services."""

    serializer_related_field = VisibleRelatedField
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        PhoneNumberModelField: PhoneNumberField,
        models.JSONField: BoundedJSONField,
    }

    def build_field(self, field_name: str, info: Any, model_class: Any, nested_depth: int) -> Any:
        model_field = info.fields.get(field_name)
        if isinstance(model_field, models.GeneratedField):  # e.g. profit: computed by the database
            output = model_field.output_field
            if isinstance(output, models.DecimalField):
                kwargs = {"max_digits": output.max_digits, "decimal_places": output.decimal_places}
                return serializers.DecimalField, {**kwargs, "read_only": True}
            return serializers.ReadOnlyField, {}
        return super().build_field(field_name, info, model_class, nested_depth)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A multipart "null" parses to None; a JSON column such as `custom` takes an object, never null.
        model: Any = self.Meta.model
        for name, value in attrs.items():
            model_field = model._meta._forward_fields_map.get(name)
            if value is None and isinstance(model_field, models.JSONField) and not model_field.null:
                raise serializers.ValidationError({name: "This field may not be null."})
        return attrs

    def _user(self) -> Any:
        return self.context["request"].user

    def _with_owner(self, data: dict[str, Any]) -> dict[str, Any]:
        if "owner" in self.fields and "owner" not in data:
            data = {**data, "owner": self._user()}
        return data

    def create(self, validated_data: dict[str, Any]) -> Any:
        return record_create(model=self.Meta.model, by=self._user(), **self._with_owner(validated_data))

    def update(self, instance: models.Model, validated_data: dict[str, Any]) -> Any:
        return record_update(instance=instance, by=self._user(), data=validated_data)


def record_serializer(model_: type[models.Model], *, read_only: tuple[str, ...] = (), exclude_: tuple[str, ...] = ()) -> type:
    """A RecordSerializer for a model with no special write rules."""
    meta = type("Meta", (), {"model": model_, "read_only_fields": ["id", *read_only]})
    if exclude_:
        meta.exclude = list(exclude_)  # type: ignore[attr-defined]
    else:
        meta.fields = "__all__"  # type: ignore[attr-defined]
    return type(f"{model_.__name__}Serializer", (RecordSerializer,), {"Meta": meta})


RATE = ("exchange_rate",)

CompanySerializer = record_serializer(Company)
ContactSerializer = record_serializer(Contact)
LeadSourceSerializer = record_serializer(LeadSource, read_only=("is_system",))
PipelineSerializer = record_serializer(Pipeline)
StageSerializer = record_serializer(Stage)
LossReasonSerializer = record_serializer(LossReason)
ChurnReasonSerializer = record_serializer(ChurnReason)
CustomFieldSerializer = record_serializer(CustomField)
DealStageChangeSerializer = record_serializer(DealStageChange)
ProductSerializer = record_serializer(Product)
ActivitySerializer = record_serializer(Activity)
SurveyAnswerSerializer = record_serializer(SurveyAnswer)
CampaignSerializer = record_serializer(Campaign, read_only=RATE)
CampaignRecipientSerializer = record_serializer(CampaignRecipient)


class LeadSerializer(RecordSerializer):
    class Meta:
        model = Lead
        fields = "__all__"
        read_only_fields = ["id", "status", "converted_at", "contact", "company"]

    def create(self, validated_data: dict[str, Any]) -> Lead:
        return crm.lead_create(by=self._user(), **self._with_owner(validated_data))


class LeadConvertSerializer(serializers.Serializer):
    deal_title = serializers.CharField(required=False, max_length=200)
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, required=False, min_value=0)
    expected_close_date = serializers.DateField(required=False)


class DealSerializer(RecordSerializer):
    class Meta:
        model = Deal
        fields = "__all__"
        read_only_fields = ["id", "status", "closed_at", "loss_reason", "loss_note", "stage_changed_at", "exchange_rate", "lead"]
        # Without them a deal opens in the default pipeline's first stage.
        extra_kwargs = {"pipeline": {"required": False}, "stage": {"required": False}}

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        if self.instance is not None:  # stage and pipeline change through the move action (it is recorded)
            fields["stage"].read_only = True
            fields["pipeline"].read_only = True
            fields["created_at"].read_only = True
        return fields

    def create(self, validated_data: dict[str, Any]) -> Deal:
        return crm.deal_create(by=self._user(), **self._with_owner(validated_data))

    def update(self, instance: Deal, validated_data: dict[str, Any]) -> Deal:  # type: ignore[override]
        return crm.deal_update(deal=instance, by=self._user(), data=validated_data)


class DealMoveSerializer(serializers.Serializer):
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.all())


class DealWinSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, required=False, min_value=0)
    closed_at = serializers.DateTimeField(required=False)


class DealLoseSerializer(serializers.Serializer):
    loss_reason = serializers.PrimaryKeyRelatedField(queryset=LossReason.objects.filter(is_active=True))
    note = serializers.CharField(required=False, allow_blank=True, default="")
    closed_at = serializers.DateTimeField(required=False)
    follow_up_on = serializers.DateField(required=False, help_text="When to follow up; default: the loss reason's delay.")


class DocumentSerializer(RecordSerializer):
    """Offers, orders and invoices: the number is given when one is created (sales.numbering), and read only."""

    def create(self, validated_data: dict[str, Any]) -> Any:
        return sales.document_create(model=self.Meta.model, by=self._user(), **self._with_owner(validated_data))


class OfferSerializer(DocumentSerializer):
    class Meta:
        model = Offer
        fields = "__all__"
        read_only_fields = ["id", "number", "amount", "cost", "exchange_rate"]


class OrderSerializer(DocumentSerializer):
    class Meta:
        model = Order
        fields = "__all__"
        read_only_fields = ["id", "number", *RATE]


class InvoiceSerializer(DocumentSerializer):
    class Meta:
        model = Invoice
        fields = "__all__"
        read_only_fields = ["id", "number", *RATE]


class OfferLineSerializer(RecordSerializer):
    class Meta:
        model = OfferLine
        fields = "__all__"
        read_only_fields = ["id"]
        extra_kwargs = {"unit_price": {"required": False}, "unit_cost": {"required": False}}

    def create(self, validated_data: dict[str, Any]) -> OfferLine:
        offer = validated_data.pop("offer")
        return sales.offer_line_create(by=self._user(), offer=offer, **validated_data)

    def update(self, instance: OfferLine, validated_data: dict[str, Any]) -> OfferLine:  # type: ignore[override]
        validated_data.pop("offer", None)
        return sales.offer_line_update(by=self._user(), line=instance, data=validated_data)


class CaseSerializer(RecordSerializer):
    class Meta:
        model = Case
        fields = "__all__"
        read_only_fields = ["id"]
        extra_kwargs = {"number": {"required": False}}

    def create(self, validated_data: dict[str, Any]) -> Case:
        return service.case_create(by=self._user(), **self._with_owner(validated_data))
