"""What every form shares: a service's refusal shown next to the fields it names."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.text import capfirst


class ServiceErrorsMixin:
    """Place a service's ValidationError next to the fields it names: the one way forms show a refusal.

    Views call `form.add_service_error(error)` (or `add_error(None, error)`). A field the form shows gets its
    messages; `service_field_aliases` maps a service's field name to the form field that shows it (a lead's
    `first_name` on a web form's `name`). Errors about fields the form does not show (a model rule on
    `closed_at`, say) become errors of the whole form, prefixed with the field's label (`unshown_error`
    decides; `hidden_from_errors` names shown fields that must not carry messages, such as hidden inputs).
    With `shows_service_messages` off (a public form), messages not about a field the visitor fills in, the
    whole form's included, all go through `unshown_error`.
    """

    fields: dict[str, forms.Field]
    service_field_aliases: ClassVar[dict[str, str]] = {}
    hidden_from_errors: ClassVar[frozenset[str]] = frozenset()
    shows_service_messages: ClassVar[bool] = True

    def add_service_error(self, error: ValidationError) -> None:
        self.add_error(None, error if hasattr(error, "error_dict") else ValidationError({NON_FIELD_ERRORS: error.error_list}))

    def add_error(self, field: str | None, error: Any) -> None:
        if field is None and isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            shown: dict[str, list[ValidationError]] = {}
            for service_name, errors in error.error_dict.items():
                name = self.service_field_aliases.get(service_name, service_name)
                if (name == NON_FIELD_ERRORS and self.shows_service_messages) or (
                    name in self.fields and name not in self.hidden_from_errors
                ):
                    shown.setdefault(name, []).extend(errors)
                else:
                    shown.setdefault(NON_FIELD_ERRORS, []).extend(self.unshown_error(service_name, errors))
            error = ValidationError(shown)
        super().add_error(field, error)  # type: ignore[misc]

    def unshown_error(self, name: str, errors: list[ValidationError]) -> list[ValidationError]:
        """The whole form's messages for errors about a field it does not show."""
        label = self._label_of(name)
        return [ValidationError(f"{label}: {message}") for e in errors for message in e.messages]

    def _label_of(self, name: str) -> str:
        model = getattr(getattr(self, "_meta", None), "model", None)
        try:
            return capfirst(str(model._meta.get_field(name).verbose_name)) if model else name
        except Exception:
            return name


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """The form's choice field `name`, typed, for choices set when the form is made."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField), f"{name} is not a choice field"
    return field


def model_choice_field(form: forms.BaseForm, name: str) -> forms.ModelChoiceField:
    """The form's record field `name`, typed, for a queryset narrowed to the user when the form is made."""
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField), f"{name} is not a record choice field"
    return field
