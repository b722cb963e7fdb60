"""Forms for service cases."""

from __future__ import annotations

from django import forms

from quota.core.views import RecordForm
from quota.service.models import Case


class CaseForm(RecordForm):
    """A new case: the service gives it its number and first-response deadline."""

    class Meta:
        model = Case
        fields = ["subject", "description", "company", "contact", "owner", "priority", "channel"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}


class CaseEditForm(RecordForm):
    class Meta:
        model = Case
        fields = [
            "number",
            "subject",
            "description",
            "company",
            "contact",
            "owner",
            "status",
            "priority",
            "channel",
            "first_response_at",
            "resolved_at",
            "response_due_at",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}
