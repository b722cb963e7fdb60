"""What a file can be imported into: a model, its importable fields, how duplicates are found, and the
few rules a kind of record adds (a deal's stage history, a user's unusable password).

The importable fields are read from the model itself (type, required, choices, related model), so
a field added to a model is importable without touching the engine. A related record is importable
as soon as `keys.NATURAL_KEYS` says how to find it by name.
"""

from __future__ import annotations

import bisect
import copy
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.base import ModelState
from django.utils import timezone

from quota.core.models import ExchangeRate
from quota.core.money import rate_on
from quota.crm.choices import CustomFieldType
from quota.crm.models import CustomField
from quota.imports.keys import NATURAL_KEYS, Key, Resolver, StoredKey
from quota.imports.problems import Problem, ProblemKind

SHOWN_CHARS = 200  # a huge cell is quoted this far in a report


class FieldKind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    CHOICE = "choice"
    RECORD = "record"  # a related record, found by natural key


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"  # a duplicate left as it is (on-duplicate skip)
    REJECTED = "rejected"  # the row has errors


@dataclass(frozen=True)
class TargetField:
    name: str
    kind: FieldKind
    label: str
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    related: type[models.Model] | None = None
    decimal_places: int | None = None
    custom_key: str | None = None  # kept in the record's `custom` values under this key
    virtual: bool = False  # not stored as is: the target derives model fields from it


@dataclass
class RowWork:
    """One row on its way to becoming a record."""

    number: int
    values: dict[str, Any]  # typed values; record fields hold model instances once found
    raw: dict[str, str]  # the text each field was read from
    sources: dict[str, str]  # the column each field came from
    blank: set[str]
    defaulted: dict[str, str]
    problems: list[Problem] = field(default_factory=list)
    instance: models.Model | None = None
    existing: Any = None  # the record already in the database this row matched
    creating: bool = True
    duplicate_of: RowWork | None = None  # an earlier row of the same batch with the same key
    changed: list[str] = field(default_factory=list)
    original: Any = None  # the record as it was before an update (a copy), for history and changed fields
    outcome: Outcome | None = None

    def problem(self, kind: ProblemKind, message: str, *, field: str | None = None, value: Any = None) -> None:
        column = self.sources.get(field, field) if field else None
        shown = self.raw.get(field) if value is None and field else value
        if shown is not None:
            shown = str(shown)
            shown = shown if len(shown) <= SHOWN_CHARS else f"{shown[:SHOWN_CHARS]}... ({len(shown):,} characters)"
        self.problems.append(Problem(kind=kind, message=message, row=self.number, column=column, value=shown))

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


@dataclass
class StepContext:
    """What a step's rows share: who imports, in which currency, and caches that live for the step."""

    name: str
    by: Any
    currency: str
    company_currency: str
    on_duplicate: str
    resolver: Resolver
    mapped: set[str]
    amount_known_before_close: bool = True  # False: the file's amounts are values at close (StepMapping.amount_known)
    now: dt.datetime = field(default_factory=timezone.now)
    rates: dict[str, list[tuple[dt.date, Decimal]]] = field(default_factory=dict)  # (valid from, rate), oldest first
    cache: dict[str, Any] = field(default_factory=dict)

    def rate(self, currency: str, day: dt.date) -> Decimal:
        """Company currency per unit of `currency` on `day` (raises ValidationError if there is none).

        The same answer as `rate_on`, from the currency's rates read once: a file's deals fall on
        thousands of days, and one query per day was most of an import's time.
        """
        if currency == self.company_currency:
            return Decimal("1")
        if currency not in self.rates:
            self.rates[currency] = list(
                ExchangeRate.objects.filter(currency=currency).order_by("valid_from").values_list("valid_from", "rate")
            )
        known = self.rates[currency]
        at = bisect.bisect_right(known, day, key=lambda pair: pair[0])
        if not at:
            return rate_on(currency, day)  # none yet: its error says so
        return known[at - 1][1]


class Target:
    """A kind of record a file can hold. Subclasses name the model and add their rules."""

    name: ClassVar[str]
    model: ClassVar[type[models.Model]]
    custom_target: ClassVar[str | None] = None  # CustomField.target for this record's custom fields
    match_fields: ClassVar[tuple[str, ...]] = ("external_id",)
    exclude: ClassVar[frozenset[str]] = frozenset()
    filled_when_blank: ClassVar[frozenset[str]] = frozenset()  # required model fields the target fills itself
    stand_ins: ClassVar[dict[str, tuple[str, ...]]] = {}  # a required field may be filled from these instead
    company_currency_fields: ClassVar[frozenset[str]] = frozenset()  # money with no currency of its own
    scopes: ClassVar[dict[str, str]] = {}  # a record field whose key is unique only within another (stage: pipeline)

    def fields(self) -> dict[str, TargetField]:
        found = {f.name: f for f in self._model_fields()}
        found.update({f.name: f for f in self.virtual_fields()})
        if self.custom_target:
            found.update({f.name: f for f in _custom_fields(self.custom_target)})
        return found

    def _model_fields(self) -> list[TargetField]:
        result = []
        for model_field in self.model._meta.concrete_fields:
            if (
                model_field.primary_key
                or not model_field.editable
                or model_field.name in self.exclude
                or isinstance(model_field, models.JSONField | models.GeneratedField)
            ):
                continue
            kind = _kind_of(model_field)
            related = model_field.related_model if kind == FieldKind.RECORD else None
            if related is not None and related not in NATURAL_KEYS:
                continue  # nothing to find it by
            required = (
                not model_field.blank
                and not model_field.null
                and model_field.default is models.NOT_PROVIDED
                and model_field.name not in self.filled_when_blank
            )
            result.append(
                TargetField(
                    name=model_field.name,
                    kind=kind,
                    label=str(model_field.verbose_name),
                    required=required,
                    choices=tuple((str(v), str(label)) for v, label in model_field.flatchoices)
                    if kind == FieldKind.CHOICE
                    else (),
                    related=related,
                    decimal_places=getattr(model_field, "decimal_places", None),
                )
            )
        return result

    # ---------------------------------------------------------------- hooks subclasses override

    def virtual_fields(self) -> list[TargetField]:
        return []

    def derive(self, work: RowWork) -> None:
        """Fill model fields from virtual ones (a full name into first and last name)."""

    def match_key(self, field_name: str, work: RowWork) -> tuple[Key, str] | None:
        """The natural key and this row's value for finding an existing record by `field_name`."""
        value = work.values.get(field_name)
        if value in (None, ""):
            return None
        return StoredKey(field_name), str(value)

    def scope_default(self, field_name: str, ctx: StepContext) -> models.Model | None:
        return None

    def new_instance(self) -> models.Model:
        """A new record with the model's defaults, as `self.model()` makes it.

        Copied from one record built per step: building each from scratch (defaults, signals) was a
        large part of an import's time. Callable defaults (now) are therefore the step's; mutable
        ones (a custom fields dict) are copied, so no two records share one.
        """
        template = self.__dict__.get("_template")
        if template is None:
            template = self.__dict__["_template"] = self.model()
        record = self.model.__new__(self.model)
        record.__dict__.update(template.__dict__)
        record._state = ModelState()
        for name, value in template.__dict__.items():
            if isinstance(value, dict | list | set):
                record.__dict__[name] = copy.copy(value)
        return record

    def prepare(self, work: RowWork, ctx: StepContext) -> None:
        """Target rules between assigning values and validating (defaults, derived fields, notices)."""

    def after_write(self, created: list[RowWork], updated: list[RowWork], ctx: StepContext) -> None:
        """Records that go with the written ones (a deal's stage history)."""

    def default_note(self, field_name: str, used: str) -> str | None:
        """How to tell the user a blank was filled (None: the engine's general wording)."""
        return None

    def display(self, record: models.Model) -> str:
        """How the file would name this record (used when a text field must name one)."""
        key = NATURAL_KEYS[self.model].keys[0]
        return str(getattr(record, key.name)) if isinstance(key, StoredKey) else str(record)


def _kind_of(model_field: models.Field) -> FieldKind:
    if isinstance(model_field, models.ForeignKey):
        return FieldKind.RECORD
    if model_field.choices:
        return FieldKind.CHOICE
    if isinstance(model_field, models.BooleanField):
        return FieldKind.BOOLEAN
    if isinstance(model_field, models.DateTimeField):
        return FieldKind.DATETIME
    if isinstance(model_field, models.DateField):
        return FieldKind.DATE
    if isinstance(model_field, models.DecimalField | models.FloatField):
        return FieldKind.DECIMAL
    if isinstance(model_field, models.IntegerField):
        return FieldKind.INTEGER
    return FieldKind.TEXT


CUSTOM_KINDS = {
    CustomFieldType.NUMBER: FieldKind.DECIMAL,
    CustomFieldType.DATE: FieldKind.DATE,
    CustomFieldType.CHOICE: FieldKind.CHOICE,
    CustomFieldType.TEXT: FieldKind.TEXT,
    CustomFieldType.BOOLEAN: FieldKind.BOOLEAN,
}


def _custom_fields(target: str) -> list[TargetField]:
    return [
        TargetField(
            name=f"custom.{cf.key}",
            kind=CUSTOM_KINDS[CustomFieldType(cf.field_type)],
            label=cf.label,
            required=cf.required,
            choices=tuple((str(c), str(c)) for c in cf.choices or ()),
            custom_key=cf.key,
        )
        for cf in CustomField.objects.filter(target=target)
    ]


def custom_value(kind: FieldKind, value: Any) -> Any:
    """Custom values are stored the way crm.services.clean_custom_values stores them (JSON-friendly)."""
    if kind == FieldKind.DECIMAL:
        return int(value) if value == value.to_integral_value() else float(value)
    if kind == FieldKind.DATE:
        return value.isoformat()
    return value


def validation_messages(error: ValidationError) -> list[tuple[str | None, str]]:
    """(field or None, message) pairs from a model ValidationError."""
    if hasattr(error, "error_dict"):
        return [
            (None if name == "__all__" else name, message)
            for name, errors in error.error_dict.items()
            for item in errors
            for message in item.messages
        ]
    return [(None, message) for message in error.messages]
