"""Custom fields on record pages: one typed form field per definition, and the values on detail pages.

Records that keep custom values (companies, contacts, leads and deals, in their `custom` JSON) get these
fields in every `RecordForm`, after the model's own: CrmConfig.ready() registers them with the generic record
pages (quota.core.record_extensions), which core cannot import. The form hands the values to the
services as one `custom` mapping, stored the way `crm.custom_fields` stores them; the record's
`clean()` checks them again, so the API and imports obey the same rules, and an error it raises
lands next to the field it is about.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models

from quota.crm.choices import CustomFieldTarget, CustomFieldType
from quota.crm.custom_fields import definitions, stored_value

# Form field names are "custom__<key>": a custom key cannot clash with a model field's name.
PREFIX = "custom__"


def custom_target(model: type[models.Model]) -> str | None:
    """The `CustomField.target` of a model's records, or None if it keeps no custom values."""
    try:
        model._meta.get_field("custom")
    except FieldDoesNotExist:
        return None
    name = model._meta.model_name
    return name if name in CustomFieldTarget.values else None


def form_field(definition: Any) -> forms.Field:
    """The form field for one definition: its label, its type and whether it is required."""
    common: dict[str, Any] = {"label": definition.label, "required": definition.required}
    if definition.field_type == CustomFieldType.NUMBER:
        return forms.DecimalField(**common)
    if definition.field_type == CustomFieldType.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common)
    if definition.field_type == CustomFieldType.BOOLEAN:
        return forms.NullBooleanField(**common)  # unknown, yes or no; a required one is held by the record's check
    if definition.field_type == CustomFieldType.CHOICE:
        return forms.ChoiceField(choices=[("", "---------"), *((str(c), str(c)) for c in definition.choices)], **common)
    return forms.CharField(**common)


def python_value(definition: Any, stored: Any) -> Any:
    """A stored value as the form field and the summary want it (a date, not its ISO text)."""
    try:
        if definition.field_type == CustomFieldType.DATE and isinstance(stored, str):
            return dt.date.fromisoformat(stored)
        if definition.field_type == CustomFieldType.NUMBER and isinstance(stored, float):
            return Decimal(str(stored))
    except ValueError:
        pass  # a value stored before its definition changed: shown as it is, for the user to correct
    return stored


class CustomFormFields:
    """The custom fields of one record form: added on creation, collected in `clean()`."""

    def __init__(self, form: forms.ModelForm) -> None:
        self.form = form
        target = custom_target(type(form.instance))
        self.definitions: dict[str, Any] = definitions(target) if target else {}
        stored = getattr(form.instance, "custom", None) or {}
        for key, definition in self.definitions.items():
            name = PREFIX + key
            form.fields[name] = form_field(definition)
            if key in stored and name not in form.initial:
                form.initial[name] = python_value(definition, stored[key])

    def collect(self, cleaned_data: dict[str, Any]) -> None:
        """Replace the `custom__*` values by one `custom` mapping, for the services and the record's own check.

        The mapping holds exactly the defined keys: a value kept for a definition since deleted
        would fail the record's check, and the user could not remove it.
        """
        if not self.definitions:
            return
        values: dict[str, Any] = {}
        for key, definition in self.definitions.items():
            value = cleaned_data.pop(PREFIX + key, None)
            if value not in (None, ""):
                values[key] = stored_value(definition, value)
        cleaned_data["custom"] = values
        # The form validates a copy of the record (see RecordFormView._form): a new dict, never the stored one.
        self.form.instance.custom = values

    def place_errors(self, error: ValidationError) -> ValidationError:
        """Move the record's "key: message" custom errors next to their fields.

        A field the form already found wrong keeps only the form's message (a rejected number is
        also missing from the values, and the record would add "required").
        """
        if not self.definitions or not hasattr(error, "error_dict") or "custom" not in error.error_dict:
            return error
        placed: dict[str, list[ValidationError]] = {name: list(errors) for name, errors in error.error_dict.items()}
        unplaced: list[ValidationError] = []
        for message in ValidationError(placed.pop("custom")).messages:
            key, separator, text = message.partition(": ")
            name = PREFIX + key
            if separator and name in self.form.fields:
                if name not in self.form.errors:
                    placed.setdefault(name, []).append(ValidationError(text))
            else:
                unplaced.append(ValidationError(message))
        if unplaced:
            placed["custom"] = unplaced
        return ValidationError(placed)


def custom_field_summary(record: models.Model) -> list[tuple[str, Any]]:
    """(label, value) of a record's filled-in custom fields, in the definitions' order (for detail pages)."""
    target = custom_target(type(record))
    stored = getattr(record, "custom", None) or {}
    if target is None or not stored:
        return []
    return [
        (definition.label, python_value(definition, stored[key]))
        for key, definition in definitions(target).items()
        if stored.get(key) not in (None, "")
    ]
