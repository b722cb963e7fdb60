"""The report form: it only collects values; services.report_create/update validate and save them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from quota.core.forms import ServiceErrorsMixin, choice_field, model_choice_field
from quota.core.visibility import visible_owner_ids
from quota.kpi.models import Metric
from quota.reports.choices import (
    LAST_DAY,
    LATEST_FIXED_DAY,
    Frequency,
    Grouping,
    ReportFormat,
    ReportPeriod,
    ReportTable,
    Weekday,
)
from quota.reports.models import Report

DAY_CHOICES = [("", "—"), *((day, str(day)) for day in range(1, LATEST_FIXED_DAY + 1)), (LAST_DAY, _("Last day of the month"))]


def people_visible_to(user: Any) -> QuerySet:
    """Active people `user` may see the records of: who they may report on and send to."""
    people = get_user_model().objects.filter(is_active=True).select_related("team")
    ids = visible_owner_ids(user)
    return people if ids is None else people.filter(pk__in=ids)


class ReportForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, help_text=_("E.g. Monthly board pack."))
    title = forms.CharField(label=_("Title"), max_length=200)
    kpis = forms.MultipleChoiceField(label=_("KPIs"), required=False, widget=forms.CheckboxSelectMultiple)
    group_by = forms.ChoiceField(label=_("Breakdown"), choices=Grouping.choices)
    periods = forms.MultipleChoiceField(
        label=_("Periods"), choices=ReportPeriod.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    tables = forms.MultipleChoiceField(
        label=_("Tables"), choices=ReportTable.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    formats = forms.MultipleChoiceField(
        label=_("Formats"), choices=ReportFormat.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    scope_user = forms.ModelChoiceField(
        label=_("As seen by"),
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label=_("Me (what I see)"),
        help_text=_("The report shows what this person may see, e.g. a manager for their team."),
    )
    frequency = forms.ChoiceField(label=_("Frequency"), choices=Frequency.choices)
    weekday = forms.TypedChoiceField(
        label=_("Weekday (weekly)"), choices=[("", "—"), *Weekday.choices], coerce=int, empty_value=None, required=False
    )
    day_of_month = forms.TypedChoiceField(
        label=_("Day of the month (monthly)"), choices=DAY_CHOICES, coerce=int, empty_value=None, required=False
    )
    send_at = forms.TimeField(
        label=_("Time"), help_text=_("In the company's time zone."), widget=forms.TimeInput(attrs={"type": "time"})
    )
    recipients = forms.ModelMultipleChoiceField(
        label=_("Recipients"),
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    emails = forms.CharField(
        label=_("Other e-mail addresses"), required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text=_("One per line.")
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = people_visible_to(user)
        model_choice_field(self, "scope_user").queryset = people
        model_choice_field(self, "recipients").queryset = people.exclude(email="")
        metrics = sorted(Metric.objects.current(), key=lambda m: m.display_name.casefold())
        choice_field(self, "kpis").choices = [(m.key, m.display_name) for m in metrics]

    @staticmethod
    def initial_for(report: Report) -> dict[str, Any]:
        return {
            "name": report.name,
            "title": report.title,
            "kpis": report.kpis,
            "group_by": report.group_by,
            "periods": report.periods,
            "tables": report.tables,
            "formats": report.formats,
            "scope_user": report.scope_user_id,
            "frequency": report.frequency,
            "weekday": report.weekday,
            "day_of_month": report.day_of_month,
            "send_at": report.send_at,
            "recipients": list(report.recipients.values_list("pk", flat=True)),
            "emails": "\n".join(report.emails),
            "is_active": report.is_active,
        }

    def clean_emails(self) -> list[str]:
        text = self.cleaned_data.get("emails") or ""
        return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)
