"""What an import creates when asked to (`--create-missing`): the lead sources and loss reasons its rows
name, and the custom fields its mapping names, that Quota does not have yet.

They are created through the same service as `quota leadsource add` and `quota customfield add`
(core.services.record_create: validated as a whole), inside the import's transaction: a dry run
creates them and rolls them back with its rows, so it lists exactly what a commit would create, and a
failed commit leaves none behind. A custom field's type is read from the column's values: yes/no,
number, date, a choice when a few values repeat, else text.

A blank can also go to an explicit group (`--blank-as-group`): a blank lead source or loss reason
is read as the record named BLANK_GROUP, so a KPI by source counts blanks as their own source
instead of the row being refused or given an invented value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.text import slugify

from quota.core.inputs import problem_lines
from quota.core.services import record_create
from quota.crm.choices import CustomFieldType
from quota.crm.custom_fields import forget_definitions
from quota.crm.models import CustomField, LeadSource, LossReason
from quota.imports import values as parse

BLANK_GROUP = "(blank)"
# How a refusal names the two choices: the command's flags and the import page's checkboxes.
CREATE_MISSING = '--create-missing, or "Create what is missing" on the import page'
BLANK_AS_GROUP = '--blank-as-group, or "Count blank lead sources and loss reasons as (blank)" on the import page'
CUSTOM_PREFIX = "custom."  # a mapping names a custom field as custom.<key>
CREATABLE: tuple[type[models.Model], ...] = (LeadSource, LossReason)
CHOICES_AT_MOST = 20  # distinct values a choice field is inferred for; more is free text
KEY_LENGTH = 50  # SlugField max_length of LeadSource.key and CustomField.key


class CreateError(ValueError):
    """A record the file names cannot be created (its name is not valid as one); the message says why."""


@dataclass(frozen=True)
class InferredType:
    field_type: CustomFieldType
    choices: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.field_type == CustomFieldType.CHOICE:
            return f"choice: {', '.join(self.choices)}"
        return str(self.field_type)


def infer_type(values: Iterable[Any], *, date_format: str = "") -> InferredType:
    """The custom field type a column's values fit (see TypeGuess)."""
    guess = TypeGuess(date_format=date_format)
    for value in values:
        guess.add(value)
    return guess.result()


class TypeGuess:
    """Reads a column's values one at a time, with bounded memory (a file may have a million rows), and
    says which type they all fit: yes/no (1/0 too), number, date, a choice when a few values repeat, else text."""

    def __init__(self, *, date_format: str = "") -> None:
        self.readers: dict[CustomFieldType, Callable[[str], object]] = {
            CustomFieldType.BOOLEAN: parse.boolean,  # first: "1"/"0" is yes/no before it is a number
            CustomFieldType.NUMBER: parse.decimal,
            CustomFieldType.DATE: lambda v: parse.date(v, date_format=date_format),
        }
        self.counts: dict[str, int] = {}  # the first CHOICES_AT_MOST + 1 distinct values: more means text
        self.filled = 0

    def add(self, value: Any) -> None:
        if parse.is_blank(value):
            return
        text = parse.text(value)
        self.filled += 1
        if text in self.counts:
            self.counts[text] += 1
            return
        if len(self.counts) <= CHOICES_AT_MOST:
            self.counts[text] = 1
        for field_type, read in list(self.readers.items()):
            if not _fits(read, text):
                del self.readers[field_type]

    def result(self) -> InferredType:
        if not self.filled:
            return InferredType(CustomFieldType.TEXT)
        if self.readers:
            return InferredType(next(iter(self.readers)))
        # A few values that repeat are categories (a contract type); as many values as rows are free text (a note).
        if len(self.counts) <= CHOICES_AT_MOST and self.filled >= 2 * len(self.counts):
            return InferredType(CustomFieldType.CHOICE, tuple(sorted(self.counts, key=str.casefold)))
        return InferredType(CustomFieldType.TEXT)


def _fits(read: Callable[[str], object], value: str) -> bool:
    try:
        read(value)
    except parse.ValueProblem:
        return False
    return True


class MissingRecords:
    """Creates what a run's files name and Quota lacks, once each, and remembers it for the report."""

    def __init__(self, *, by: object) -> None:
        self.by = by
        self.created: list[str] = []
        self.custom_fields_created = False

    def reference(self, model: type[models.Model], value: str) -> models.Model:
        """A new lead source or loss reason named `value` (CreateError if it cannot be one)."""
        name = " ".join(value.split())
        record: models.Model
        try:
            if model is LeadSource:
                key = _free_key(LeadSource.objects.values_list("key", flat=True), name)
                record = record_create(model=LeadSource, by=self.by, key=key, name=name)
                self.created.append(f"lead source {name!r} (key {key})")
            elif model is LossReason:
                record = record_create(model=LossReason, by=self.by, name=name)
                self.created.append(f"loss reason {name!r}")
            else:
                raise CreateError(f"{model._meta.verbose_name_plural} are not created by an import")
        except ValidationError as exc:
            raise CreateError(f"cannot create {model._meta.verbose_name} {name!r}: {'; '.join(problem_lines(exc))}") from None
        return record

    def custom_field(self, *, target: str, key: str, label: str, inferred: InferredType) -> CustomField:
        position = CustomField.objects.filter(target=target).count()
        try:
            record = record_create(
                model=CustomField,
                by=self.by,
                target=target,
                key=key,
                label=label[:100],
                field_type=inferred.field_type,
                choices=list(inferred.choices),
                position=position,
            )
        except ValidationError as exc:
            raise CreateError(f"cannot create the custom field {key!r}: {'; '.join(problem_lines(exc))}") from None
        self.custom_fields_created = True
        self.created.append(f"custom field {target}.{key} ({inferred.describe()})")
        return record

    def settle(self) -> None:
        """After the run's transaction: custom field definitions are cached, and a rolled-back one must not stay there."""
        if self.custom_fields_created:
            forget_definitions()


def new_custom_field_key(column: str, *, fallback: str) -> str:
    """The key a new custom field gets from its column's name ('Contract type' -> 'contract_type'); `fallback` when
    the name has no letters a key may hold (keys are ASCII slugs)."""
    return slugify(column).replace("-", "_")[:KEY_LENGTH] or fallback


def _free_key(taken: Iterable[str], name: str) -> str:
    """A lead source key from its name ('Paid Search' -> 'paid_search'), made unique if another has it."""
    base = slugify(name).replace("-", "_")[: KEY_LENGTH - 4] or "source"
    if name == BLANK_GROUP:
        base = "blank"
    used = set(taken)
    key, number = base, 2
    while key in used:
        key, number = f"{base}_{number}", number + 1
    return key
