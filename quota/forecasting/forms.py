"""The forecast call form: whom the call is for, the period and the amount (checked by forecasting.calls)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from quota.accounts.models import Team, User

COMPANY = "company"


def scope_key(*, user_id: int | None = None, team_id: int | None = None) -> str:
    """How a form names whom a call is for: `person:<id>`, `team:<id>` or `company`."""
    return f"person:{user_id}" if user_id else f"team:{team_id}" if team_id else COMPANY


PERIOD_ERRORS = {"required": _("Choose the period of the call."), "invalid": _("Choose the period of the call.")}


class CallForm(forms.Form):
    scope = forms.CharField(error_messages={"required": _("Choose whom the call is for.")})
    start = forms.DateField(error_messages=PERIOD_ERRORS)
    end = forms.DateField(error_messages=PERIOD_ERRORS)
    amount = forms.CharField(required=False, strip=True)  # its errors are the service's (forecasting.calls.parse_amount)

    def clean_scope(self) -> tuple[User | None, Team | None]:
        """The person or team named (neither: the company); an unknown one is an error, not the company."""
        value: str = self.cleaned_data["scope"]
        if value == COMPANY:
            return None, None
        kind, _sep, number = value.partition(":")
        found: Any = None
        if number.isdigit() and kind == "person":
            found = User.objects.filter(pk=int(number)).first()
        elif number.isdigit() and kind == "team":
            found = Team.objects.filter(pk=int(number)).first()
        if found is None:
            raise forms.ValidationError(_("Choose whom the call is for."))
        return (found, None) if kind == "person" else (None, found)
