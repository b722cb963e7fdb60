"""Forms for activities: the full record form and the two-click quick log."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from quota.activities.models import Activity, ActivityKind, Direction
from quota.core.views import ActionForm, RecordForm

# What a deal, contact or company page offers to log in two clicks (tasks have their own form).
QUICK_LOG_KINDS = (
    (ActivityKind.CALL, _("Log a call")),
    (ActivityKind.EMAIL, _("Log an e-mail")),
    (ActivityKind.MEETING, _("Log a meeting")),
)


class ActivityForm(RecordForm):
    class Meta:
        model = Activity
        fields = [
            "kind",
            "subject",
            "occurred_at",
            "direction",
            "answered",
            "duration_seconds",
            "opened",
            "held",
            "completed_at",
            "deal",
            "contact",
            "company",
            "owner",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}


class QuickLogForm(ActionForm):
    """A call, e-mail or meeting, logged against the record whose page it is on.

    Only the fields that apply to the kind are shown; everything has a sensible default, so
    logging is two clicks: the kind's button, then Save.
    """

    kind = forms.ChoiceField(choices=[(kind.value, kind.label) for kind, _label in QUICK_LOG_KINDS], widget=forms.HiddenInput)
    subject = forms.CharField(label=_("subject"), max_length=200, required=False)
    direction = forms.ChoiceField(
        label=_("direction"), choices=Direction.choices, initial=Direction.OUTBOUND, widget=forms.RadioSelect, required=False
    )
    answered = forms.BooleanField(label=_("answered"), initial=True, required=False)
    # Named like the model field so its errors land here; people think in minutes, the model stores seconds.
    duration_seconds = forms.IntegerField(label=_("duration (minutes)"), min_value=0, required=False)
    occurred_at = forms.DateTimeField(label=_("when"), initial=timezone.now)
    notes = forms.CharField(label=_("notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    FIELDS_BY_KIND = {
        ActivityKind.CALL: {"direction", "answered", "duration_seconds"},
        ActivityKind.EMAIL: {"direction"},
        ActivityKind.MEETING: {"duration_seconds"},
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = (self.data or {}).get("kind") or (self.initial or {}).get("kind") or ActivityKind.CALL
        self.activity_kind = ActivityKind(kind) if kind in self.FIELDS_BY_KIND else ActivityKind.CALL
        self.initial["kind"] = self.activity_kind
        for name in {"direction", "answered", "duration_seconds"} - self.FIELDS_BY_KIND[self.activity_kind]:
            del self.fields[name]

    def activity_fields(self) -> dict[str, Any]:
        """The cleaned values as Activity fields (minutes become seconds; kinds without a field leave it empty)."""
        data = dict(self.cleaned_data)
        if data.get("duration_seconds") is not None:
            data["duration_seconds"] *= 60
        if "direction" in data:
            data["direction"] = data["direction"] or Direction.OUTBOUND
        if "answered" in data and not data["answered"]:
            data["duration_seconds"] = None  # an unanswered call has no talk time
        return data


class TaskStatusForm(ActionForm):
    """Marking a task done or reopening it asks nothing: the confirming button is the form."""
