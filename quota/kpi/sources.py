"""What a KPI can be computed from: one entry per kind of record, and what each field of it is.

A source names its model, the date that usually places a record in a period, the person a
record is attributed to (so also their team), the links it is grouped by (more dimensions: kpi.dimensions), which fields are
money (converted with the record's own exchange rate) and a few computed values.
Definitions name sources and fields; only this module turns those names into SQL.

A definition names only declared fields (`READABLE`, per model), and follows a link only to the
fields declared for the model it leads to: what measures and classifies records (numbers, money,
dates, choices, flags, links). Never what identifies a person or holds free text (names, e-mails,
phones, notes), and never a user's internals (password, tokens, flags, logins): a filter on those
would let anyone who previews a KPI read them a character at a time.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Expression, ExpressionWrapper, F, Value
from django.db.models.functions import Cast
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from quota.core.money import MONEY_OUTPUT
from quota.kpi.expressions import Quotient


class Kind(StrEnum):
    """What a field holds, as far as measuring it goes."""

    NUMBER = "number"
    MONEY = "money"
    DATE = "date"
    DATETIME = "datetime"
    TEXT = "text"
    BOOLEAN = "boolean"
    LINK = "link"
    OTHER = "other"


@dataclass(frozen=True)
class Computed:
    """A value computed from a record's fields (e.g. an offer line's total in company currency)."""

    kind: Kind
    label: Promise
    build: Callable[[], Expression]
    # Dimensions within whose groups the value is a measurable field times one factor (a deal's weighted amount is
    # its amount times its stage's probability): {dimension: (field, factor)}, the factor built from a function
    # that turns a field into the group's one value of it. Grouped by one, a sum is the field's sum times the
    # factor, one multiplication per group instead of one per record (see kpi.queries.LeafQuery.aggregate).
    per_group: Mapping[str, tuple[str, Callable[[Callable[[str], Expression]], Expression]]] = field(default_factory=dict)


@dataclass(frozen=True)
class FieldInfo:
    path: str
    kind: Kind
    label: str | Promise  # translated when shown
    model_field: models.Field | None = None
    target: type[models.Model] | None = None  # for links: the model linked to

    @property
    def choices(self) -> list[str]:
        if self.model_field is None or not self.model_field.choices:
            return []
        return [str(value) for value, _label in self.model_field.flatchoices]


class UnknownField(LookupError):
    """A field path that does not resolve; the message says why and suggests close names."""


@dataclass(frozen=True)
class Source:
    key: str
    model_label: str
    label: Promise
    date: str
    attribution: str = "owner"
    dimensions: Mapping[str, str] = field(default_factory=dict)
    money: Mapping[str, str] = field(default_factory=dict)
    computed: Mapping[str, Computed] = field(default_factory=dict)

    @cached_property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.model_label)

    @property
    def name(self) -> str:
        return str(self.label)

    # -- fields

    def field(self, path: str) -> FieldInfo:
        """Resolve `path` ("amount", "stage__probability") on this source, or raise UnknownField."""
        return _field(self.key, path)

    def _resolve(self, path: str) -> FieldInfo:
        if path in self.computed:
            computed = self.computed[path]
            return FieldInfo(path, computed.kind, computed.label)
        model: type[models.Model] = self.model
        parts = path.split("__")
        model_field: Any = None
        for index, part in enumerate(parts):
            allowed = readable_fields(model) + (tuple(self.computed) if index == 0 else ())
            if part not in allowed:
                # The same answer whether the field is missing or withheld: the message lists what may be used.
                raise UnknownField(_not_readable(path, part, self.name if index == 0 else model._meta.verbose_name, allowed))
            model_field = model._meta.get_field(part)
            if not model_field.concrete or model_field.many_to_many or model_field.one_to_many:  # pragma: no cover
                raise UnknownField(
                    _("'%(path)s' leads to a list of records; a KPI follows links to one record.") % {"path": path}
                )
            if index < len(parts) - 1:
                if not model_field.is_relation:
                    raise UnknownField(
                        _("'%(part)s' in '%(path)s' is not a link, so nothing follows it.") % {"part": part, "path": path}
                    )
                model = model_field.related_model
        kind = Kind.MONEY if path in self.money else kind_of(model_field)
        target = model_field.related_model if model_field.is_relation else None
        return FieldInfo(path, kind, model_field.verbose_name, model_field, target)

    def fields(self) -> list[FieldInfo]:
        """The record's own fields a definition may name (its declared ones) and computed values, for the builder."""
        declared = readable_fields(self.model)
        own = [self.field(f.name) for f in self.model._meta.get_fields() if f.name in declared]
        return own + [self.field(name) for name in self.computed]

    def value(self, path: str) -> Expression | F:
        """The SQL value of a measurable field: money is converted to the company currency."""
        if path in self.computed:
            return self.computed[path].build()
        if path in self.money:
            return ExpressionWrapper(F(path) * F(self.money[path]), output_field=MONEY_OUTPUT)
        return F(path)


@lru_cache(maxsize=1024)
def _field(source: str, path: str) -> FieldInfo:
    return SOURCES[source]._resolve(path)


def _not_readable(path: str, part: str, where: Any, allowed: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(part, allowed, n=3)
    message = _("'%(path)s' is not a field of %(where)s that a KPI may use.") % {"path": path, "where": where}
    if close:
        message = _("%(message)s Did you mean %(close)s?") % {"message": message, "close": ", ".join(close)}
    return str(_("%(message)s It may use: %(allowed)s.") % {"message": message, "allowed": ", ".join(sorted(allowed))})


def kind_of(model_field: Any) -> Kind:
    if model_field.is_relation:
        return Kind.LINK
    internal = model_field.get_internal_type()
    if internal == "GeneratedField":
        return kind_of(model_field.output_field)
    if internal == "DateTimeField":
        return Kind.DATETIME
    if internal == "DateField":
        return Kind.DATE
    if internal == "BooleanField":
        return Kind.BOOLEAN
    if internal in {"CharField", "TextField", "EmailField", "SlugField", "URLField"} or internal.endswith("PhoneNumberField"):
        return Kind.TEXT
    if internal in {
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
        "DecimalField",
        "FloatField",
    }:
        return Kind.NUMBER
    return Kind.OTHER


def _weighted_amount() -> Expression:
    # Stage probabilities are whole percentages; the amount is weighted by the deal's current stage.
    weighted = F("amount") * F("exchange_rate") * F(STAGE_PROBABILITY)
    return Quotient(weighted, Value(Decimal(100)), output_field=MONEY_OUTPUT)


def _stage_share(one: Callable[[str], Expression]) -> Expression:
    """The share of a deal's amount its stage weighs, 0..1, from `one` (the stage's probability, as a group's value).

    The weighted amount's factor as `per_group` takes it: with the sum of a stage's amounts, it gives the sum of
    `_weighted_amount` over the stage's deals (exactly on PostgreSQL: p / 100 of a whole p is a short decimal).
    """
    # A decimal before dividing: PostgreSQL would divide a whole number by 100 as integers (75 / 100 = 0).
    return Quotient(Cast(one(STAGE_PROBABILITY), MONEY_OUTPUT), Value(Decimal(100)), output_field=MONEY_OUTPUT)


STAGE_PROBABILITY = "stage__probability"


def _offer_line_total() -> Expression:
    before_discount = F("quantity") * F("unit_price") * (Value(Decimal(100)) - F("discount_percent"))
    return ExpressionWrapper(
        Quotient(before_discount, Value(Decimal(100)), output_field=MONEY_OUTPUT) * F("offer__exchange_rate"),
        output_field=MONEY_OUTPUT,
    )


# What a KPI may read of each model (see the module's docstring): a model left out offers nothing,
# and a link offers only what its model declares here. Names are model field names; `id` is the record.
READABLE: dict[str, tuple[str, ...]] = {
    "crm.Lead": ("id", "source", "status", "owner", "campaign", "created_at", "converted_at", "contact", "company"),
    "crm.Deal": (
        "id",
        "company",
        "contact",
        "pipeline",
        "stage",
        "owner",
        "amount",
        "currency",
        "status",
        "loss_reason",
        "business_type",
        "source",
        "lead",
        "won_back_from",
        "expected_close_date",
        "created_at",
        "closed_at",
        "stage_changed_at",
    ),
    "crm.DealStageChange": (
        "id",
        "deal",
        "from_stage",
        "to_stage",
        "from_status",
        "to_status",
        "changed_at",
        "changed_by",
    ),
    "activities.Activity": (
        "id",
        "kind",
        "owner",
        "deal",
        "contact",
        "company",
        "occurred_at",
        "direction",
        "answered",
        "duration_seconds",
        "opened",
        "held",
        "completed_at",
        "created_at",
    ),
    "service.Case": (
        "id",
        "company",
        "contact",
        "owner",
        "status",
        "priority",
        "channel",
        "created_at",
        "first_response_at",
        "resolved_at",
        "response_due_at",
    ),
    "service.SurveyAnswer": ("id", "kind", "score", "contact", "company", "case", "owner", "answered_at"),
    "marketing.Campaign": ("id", "channel", "source", "owner", "starts_on", "ends_on", "spend", "currency"),
    "marketing.CampaignRecipient": ("id", "campaign", "contact", "sent_at", "opened_at", "clicked_at"),
    "sales.Offer": ("id", "deal", "company", "owner", "status", "currency", "amount", "cost", "created_at", "valid_until"),
    "sales.OfferLine": ("id", "offer", "product", "quantity", "unit_price", "unit_cost", "discount_percent"),
    "sales.Order": (
        "id",
        "company",
        "deal",
        "offer",
        "owner",
        "status",
        "amount",
        "cost",
        "profit",
        "currency",
        "ordered_at",
    ),
    "sales.Invoice": (
        "id",
        "company",
        "order",
        "owner",
        "status",
        "amount",
        "cost",
        "profit",
        "currency",
        "issued_at",
        "due_date",
        "paid_at",
    ),
    # Sources of their own too (customers), and reached through links.
    "crm.Company": (
        "id",
        "industry",
        "country",
        "employees",
        "annual_revenue",
        "owner",
        "created_at",
        "customer_since",
        "churned_on",
        "churn_reason",
        "lifecycle",
    ),
    "crm.Contact": ("id", "company", "owner", "created_at"),
    # Reached through links only.
    "crm.ChurnReason": ("id", "key", "name", "is_active"),
    "crm.LeadSource": ("id", "key", "name", "is_system"),
    "crm.Pipeline": ("id", "name", "is_default"),
    "crm.Stage": ("id", "pipeline", "name", "position", "probability"),
    "crm.LossReason": ("id", "name", "follow_up_after_days", "is_active"),
    "sales.Product": ("id", "name", "sku", "series", "price", "cost", "currency", "is_active"),
    "accounts.Team": ("id", "name", "parent"),
    # A person is who they are and where they sit: never their login, e-mail, name or flags.
    settings.AUTH_USER_MODEL: ("id", "team", "role"),
}


def readable_fields(model: type[models.Model]) -> tuple[str, ...]:
    """The fields of `model` a KPI definition may name (none for a model not declared)."""
    return READABLE.get(model._meta.label, ())


SALES_MONEY = {"amount": "exchange_rate", "cost": "exchange_rate", "profit": "exchange_rate"}

SOURCES: dict[str, Source] = {
    source.key: source
    for source in [
        Source("leads", "crm.Lead", _("leads"), date="created_at", dimensions={"source": "source"}),
        # Customers: a company counts for its owner; its lifecycle dates place it (customer_since, churned_on).
        Source("companies", "crm.Company", _("companies"), date="created_at"),
        Source("contacts", "crm.Contact", _("contacts"), date="created_at"),
        Source(
            "deals",
            "crm.Deal",
            _("deals"),
            date="created_at",
            dimensions={"source": "source", "stage": "stage"},
            money={"amount": "exchange_rate"},
            computed={
                "weighted_amount": Computed(
                    Kind.MONEY, _("weighted amount"), _weighted_amount, per_group={"stage": ("amount", _stage_share)}
                )
            },
        ),
        Source(
            "stage_changes",
            "crm.DealStageChange",
            _("deal stage changes"),
            date="changed_at",
            attribution="deal__owner",
            dimensions={"stage": "to_stage", "source": "deal__source"},
        ),
        Source("activities", "activities.Activity", _("activities"), date="occurred_at"),
        Source("cases", "service.Case", _("cases"), date="created_at"),
        Source("survey_answers", "service.SurveyAnswer", _("survey answers"), date="answered_at"),
        Source(
            "campaigns",
            "marketing.Campaign",
            _("campaigns"),
            date="starts_on",
            dimensions={"source": "source"},
            money={"spend": "exchange_rate"},
        ),
        Source(
            "campaign_events",
            "marketing.CampaignRecipient",
            _("campaign messages"),
            date="sent_at",
            attribution="campaign__owner",
            dimensions={"source": "campaign__source"},
        ),
        Source(
            "offers", "sales.Offer", _("offers"), date="created_at", money={"amount": "exchange_rate", "cost": "exchange_rate"}
        ),
        Source(
            "offer_lines",
            "sales.OfferLine",
            _("offer lines"),
            date="offer__created_at",
            attribution="offer__owner",
            dimensions={"product": "product"},
            computed={"total": Computed(Kind.MONEY, _("line total"), _offer_line_total)},
        ),
        Source("orders", "sales.Order", _("orders"), date="ordered_at", money=SALES_MONEY),
        Source("invoices", "sales.Invoice", _("invoices"), date="issued_at", money=SALES_MONEY),
    ]
}


def get_source(key: str) -> Source:
    try:
        return SOURCES[key]
    except KeyError:
        close = difflib.get_close_matches(key, list(SOURCES), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; choose from {', '.join(SOURCES)}."
        raise UnknownField(f"There is no source '{key}'{hint}") from None
