"""Extensions of the generic record pages that a domain app provides, so that core never imports the domains.

A domain registers them in its AppConfig.ready() (crm registers custom fields). The generic `RecordForm` asks
`form_extension(form)` for the extra fields it adds, collects and places errors for; the detail page asks
`detail_extras(record)` for extra (label, value) rows. With nothing registered they add nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from django import forms
from django.core.exceptions import ValidationError
from django.db import models


class FormExtension(Protocol):
    """Fields that one record form gains: added when the form is built, collected in `clean()`."""

    def collect(self, cleaned_data: dict[str, Any]) -> None: ...

    def place_errors(self, error: ValidationError) -> ValidationError: ...


class NoExtension:
    def collect(self, cleaned_data: dict[str, Any]) -> None:
        return None

    def place_errors(self, error: ValidationError) -> ValidationError:
        return error


_form_extension: Callable[[forms.ModelForm], FormExtension] | None = None
_detail_extras: Callable[[models.Model], list[tuple[str, Any]]] | None = None


def register(
    *,
    form_extension: Callable[[forms.ModelForm], FormExtension],
    detail_extras: Callable[[models.Model], list[tuple[str, Any]]],
) -> None:
    global _form_extension, _detail_extras
    _form_extension, _detail_extras = form_extension, detail_extras


def form_extension(form: forms.ModelForm) -> FormExtension:
    return _form_extension(form) if _form_extension else NoExtension()


def detail_extras(record: models.Model) -> list[tuple[str, Any]]:
    return _detail_extras(record) if _detail_extras else []
