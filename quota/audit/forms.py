"""The audit page's filters (GET parameters, so a filtered trail can be shared and exported)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from quota.audit.selectors import AuditFilter, audited_content_types, field_choices
from quota.core.forms import choice_field, model_choice_field


class AuditFilterForm(forms.Form):
    kind = forms.TypedChoiceField(label=gettext_lazy("Record type"), required=False, coerce=int, empty_value=None)
    record = forms.IntegerField(label=gettext_lazy("Record id"), required=False, min_value=1)
    user = forms.ModelChoiceField(label=gettext_lazy("By"), queryset=get_user_model()._default_manager.none(), required=False)
    field = forms.ChoiceField(label=gettext_lazy("Field"), required=False)
    start = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kinds = sorted(
            ((pk, capfirst(str(model._meta.verbose_name))) for pk, model in audited_content_types().items()),
            key=lambda pair: pair[1].casefold(),
        )
        choice_field(self, "kind").choices = [("", _("All")), *kinds]
        choice_field(self, "field").choices = [("", _("All")), *field_choices()]
        model_choice_field(self, "user").queryset = get_user_model()._default_manager.order_by(
            "first_name", "last_name", "username"
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The range ends before it starts."))
        return data

    def wanted(self) -> AuditFilter:
        """The filter the valid form asks for."""
        data = self.cleaned_data
        user = data.get("user")
        return AuditFilter(
            content_type_id=data.get("kind"),
            actor_id=user.pk if user else None,
            field=data.get("field") or "",
            start=data.get("start"),
            end=data.get("end"),
            object_id=data.get("record"),
        )
