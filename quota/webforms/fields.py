"""What a web form may ask (a small, fixed catalogue) and the rules for its settings.

A form asks some of these fields, each optional or required; they map onto the lead or case it creates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from phonenumber_field.formfields import PhoneNumberField


class AskedField(models.TextChoices):
    NAME = "name", gettext_lazy("Name")
    EMAIL = "email", gettext_lazy("E-mail")
    PHONE = "phone", gettext_lazy("Phone")
    COMPANY = "company", gettext_lazy("Company")
    MESSAGE = "message", gettext_lazy("Message")


# Each field's longest accepted value: a longer one is refused with a clear message.
MAX_LENGTHS = {"name": 200, "email": 254, "phone": 40, "company": 200, "message": 5000}
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
UTM_MAX_LENGTH = 200


@dataclass(frozen=True)
class FieldSpec:
    name: str
    required: bool

    @property
    def label(self) -> str:
        return str(AskedField(self.name).label)

    def form_field(self) -> forms.Field:
        options: dict[str, Any] = {"label": self.label, "required": self.required, "max_length": MAX_LENGTHS[self.name]}
        if self.name == AskedField.EMAIL:
            return forms.EmailField(**options, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
        if self.name == AskedField.PHONE:
            return PhoneNumberField(**options, widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}))
        if self.name == AskedField.MESSAGE:
            return forms.CharField(**options, widget=forms.Textarea(attrs={"rows": 5}))
        autocomplete = {"name": "name", "company": "organization"}[self.name]
        return forms.CharField(**options, widget=forms.TextInput(attrs={"autocomplete": autocomplete}))


def default_asked_fields() -> list[dict[str, Any]]:
    return [{"name": "name", "required": True}, {"name": "email", "required": True}, {"name": "message", "required": False}]


def clean_asked_fields(value: Any) -> list[dict[str, Any]]:
    """Check the asked fields and return them in catalogue order; a form must ask for an e-mail or a phone."""
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ValidationError(_("The fields must be a list of {name, required} entries."))
    asked: dict[str, bool] = {}
    for item in value:
        name = item.get("name")
        if name not in AskedField.values:
            raise ValidationError(_("There is no form field %(name)r.") % {"name": name})
        asked[name] = bool(item.get("required", False))
    if AskedField.EMAIL not in asked and AskedField.PHONE not in asked:
        raise ValidationError(_("Ask for an e-mail or a phone number, or nobody can answer the sender."))
    return [{"name": name, "required": asked[name]} for name in AskedField.values if name in asked]


def clean_origin(value: str) -> str:
    """`https://www.example.com` (scheme, host and port only), or `*` for any site."""
    value = value.strip().rstrip("/").lower()
    if value == "*":
        return value
    try:
        parts = urlsplit(value)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
        valid = valid and not (parts.path or parts.query or parts.fragment or parts.username)
    except ValueError:  # e.g. a port that is not a number
        valid = False
    if not valid:
        raise ValidationError(
            _("%(value)s is not an origin: write the scheme and host only, e.g. https://www.example.com.") % {"value": value}
        )
    return f"{parts.scheme}://{parts.netloc}"


def clean_origins(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise ValidationError(_("The allowed origins must be a list."))
    return list(dict.fromkeys(clean_origin(str(item)) for item in value if str(item).strip()))
