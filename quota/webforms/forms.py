"""Forms: the public submission form (built from a web form's fields) and the builder's form."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from quota.accounts.models import User
from quota.core.forms import ServiceErrorsMixin
from quota.crm.models import LeadSource
from quota.service.models import CasePriority
from quota.webforms.fields import UTM_KEYS, UTM_MAX_LENGTH, AskedField, clean_origin
from quota.webforms.models import FormTarget, WebForm

IDEMPOTENCY_KEY_FIELD = "idempotency_key"
idempotency_key_validator = RegexValidator(
    r"^[A-Za-z0-9_.:-]{1,64}$", _("The idempotency key must be 1 to 64 letters, digits, '-', '_', '.' or ':'.")
)


def new_idempotency_key() -> str:
    return secrets.token_urlsafe(24)


class SubmissionForm(ServiceErrorsMixin, forms.Form):
    """What a visitor sends: the fields the web form asks, hidden UTM and idempotency fields, and the honeypot."""

    def __init__(self, *args: Any, webform: WebForm, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.webform = webform
        for spec in webform.field_specs():
            self.fields[spec.name] = spec.form_field()
        for key in UTM_KEYS:
            self.fields[key] = forms.CharField(required=False, max_length=UTM_MAX_LENGTH, widget=forms.HiddenInput)
        self.fields[IDEMPOTENCY_KEY_FIELD] = forms.CharField(
            required=False, max_length=64, validators=[idempotency_key_validator], widget=forms.HiddenInput
        )

    def asked_values(self) -> dict[str, str]:
        """The answers, as text (a phone number in E.164)."""
        return {spec.name: str(self.cleaned_data.get(spec.name) or "") for spec in self.webform.field_specs()}

    def utm(self, fallback: dict[str, str]) -> dict[str, str]:
        """UTM parameters from the hidden fields, else from `fallback` (the query string), cut to length."""
        found = {key: (self.cleaned_data.get(key) or fallback.get(key) or "").strip()[:UTM_MAX_LENGTH] for key in UTM_KEYS}
        return {key: value for key, value in found.items() if value}

    # A service's refusal lands next to the field it concerns (lead fields are named a little differently); one
    # about a field the visitor does not fill in is not theirs to fix, and is not described to them.
    service_field_aliases = {"first_name": "name", "last_name": "name", "company_name": "company", "description": "message"}
    hidden_from_errors = frozenset({IDEMPOTENCY_KEY_FIELD, *UTM_KEYS})
    shows_service_messages = False

    def unshown_error(self, name: str, errors: list[ValidationError]) -> list[ValidationError]:
        return [ValidationError(_("This form cannot be sent right now. Please contact us another way."))]

    def json_errors(self) -> dict[str, list[str]]:
        return {field: [str(message) for message in messages] for field, messages in self.errors.items()}


REQUIREMENT_CHOICES = [("", _("Not asked")), ("optional", _("Optional")), ("required", _("Required"))]


class WebFormBuilderForm(ServiceErrorsMixin, forms.Form):
    """The builder's settings; the asked fields are one choice per catalogue field."""

    name = forms.CharField(label=_("Name"), max_length=200, help_text=_("For you; visitors do not see it."))
    target = forms.ChoiceField(label=_("Creates"), choices=FormTarget.choices)
    source = forms.ModelChoiceField(
        label=_("Lead source"),
        queryset=LeadSource.objects.all(),
        required=False,
        help_text=_("The source its leads are tagged with."),
    )
    case_priority = forms.ChoiceField(label=_("Case priority"), choices=CasePriority.choices, initial=CasePriority.NORMAL)
    owner = forms.ModelChoiceField(
        label=_("Assign to"),
        queryset=User.objects.filter(is_active=True),
        required=False,
        help_text=_("Who gets the leads or cases; empty: the shared queue."),
    )
    thank_you_message = forms.CharField(
        label=_("Thank-you message"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )
    allowed_origins = forms.CharField(
        label=_("Allowed origins"),
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "https://www.example.com"}),
        required=False,
        help_text=_(
            "The sites that may embed this form and post to it, one per line (e.g. https://www.example.com); "
            "* allows any site. Empty: only Quota's own form page."
        ),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in AskedField.choices:
            self.fields[f"ask_{name}"] = forms.ChoiceField(label=label, choices=REQUIREMENT_CHOICES, required=False)

    @classmethod
    def initial_for(cls, webform: WebForm) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": webform.name,
            "target": webform.target,
            "source": webform.source_id,
            "case_priority": webform.case_priority,
            "owner": webform.owner_id,
            "thank_you_message": webform.thank_you_message,
            "allowed_origins": "\n".join(webform.allowed_origins),
            "is_active": webform.is_active,
        }
        for spec in webform.field_specs():
            initial[f"ask_{spec.name}"] = "required" if spec.required else "optional"
        return initial

    def asked_field_names(self) -> list[str]:
        return [f"ask_{name}" for name in AskedField.values]

    def clean_allowed_origins(self) -> list[str]:
        lines = [line for line in self.cleaned_data["allowed_origins"].splitlines() if line.strip()]
        return list(dict.fromkeys(clean_origin(line) for line in lines))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        asked = [
            {"name": name, "required": data.get(f"ask_{name}") == "required"}
            for name in AskedField.values
            if data.get(f"ask_{name}")
        ]
        if not any(item["name"] in (AskedField.EMAIL, AskedField.PHONE) for item in asked):
            self.add_error("ask_email", _("Ask for an e-mail or a phone number, or nobody can answer the sender."))
        if data.get("target") == FormTarget.LEAD and not data.get("source"):
            self.add_error("source", _("Choose the lead source its leads are tagged with."))
        data["asked_fields"] = asked
        return data

    def webform_data(self) -> dict[str, Any]:
        """The cleaned settings as the services take them."""
        names = [
            "target",
            "source",
            "case_priority",
            "owner",
            "thank_you_message",
            "allowed_origins",
            "is_active",
            "asked_fields",
        ]
        return {name: self.cleaned_data[name] for name in names}
