"""Forms for CRM records and their actions (move, win, lose, convert, disqualify).

Forms validate what a person typed; the services in crm.services decide and write.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from quota.core.money import CURRENCIES, company_currency
from quota.core.views import ActionForm, RecordForm
from quota.crm.choices import LeadStatus
from quota.crm.models import ChurnReason, Company, Contact, Deal, Lead, LeadSource, LossReason, Pipeline, Stage


def use_source_choices(form: forms.BaseForm, name: str = "source") -> None:
    """Let people pick a lead source by name where a FilterSet takes its key."""
    if name in form.fields and not isinstance(form.fields[name], forms.ModelChoiceField):
        choices = [("", "---------"), *((source.key, source.display_name) for source in LeadSource.objects.all())]
        form.fields[name] = forms.ChoiceField(label=form.fields[name].label, choices=choices, required=False)


class CompanyForm(RecordForm):
    class Meta:
        model = Company
        fields = [
            "name",
            "domain",
            "industry",
            "country",
            "city",
            "phone",
            "employees",
            "annual_revenue",
            "owner",
            "customer_since",
            "churned_on",
            "churn_reason",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reasons = ChurnReason.objects.filter(is_active=True)
        if self.instance.churn_reason_id:  # a retired reason stays on the companies that have it
            reasons = reasons | ChurnReason.objects.filter(pk=self.instance.churn_reason_id)
        cast(forms.ModelChoiceField, self.fields["churn_reason"]).queryset = reasons


class ContactForm(RecordForm):
    class Meta:
        model = Contact
        fields = ["first_name", "last_name", "email", "phone", "job_title", "company", "owner"]


class LeadForm(RecordForm):
    class Meta:
        model = Lead
        fields = ["title", "first_name", "last_name", "company_name", "email", "phone", "source", "status", "owner", "campaign"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Converting and disqualifying are actions with their own rules; the form only qualifies.
        if self.instance.status in (LeadStatus.OPEN, LeadStatus.QUALIFIED):
            cast(forms.ChoiceField, self.fields["status"]).choices = [
                (s.value, s.label) for s in (LeadStatus.OPEN, LeadStatus.QUALIFIED)
            ]
        else:
            del self.fields["status"]


class DealForm(RecordForm):
    """A new deal: it opens in the pipeline's first stage unless a stage is picked."""

    class Meta:
        model = Deal
        fields = [
            "title",
            "company",
            "contact",
            "pipeline",
            "stage",
            "owner",
            "amount",
            "currency",
            "expected_close_date",
            "business_type",
            "source",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stage"].required = False
        self.fields["stage"].help_text = _("Empty: the pipeline's first stage.")
        if not self.initial.get("pipeline"):
            self.initial["pipeline"] = Pipeline.objects.filter(is_default=True).first()


class DealEditForm(RecordForm):
    """A deal's plain fields; its stage and outcome change through the board and the actions (they are recorded)."""

    class Meta:
        model = Deal
        fields = ["title", "company", "contact", "owner", "amount", "currency", "expected_close_date", "business_type", "source"]


class DealMoveForm(ActionForm):
    stage = forms.ModelChoiceField(label=gettext_lazy("stage"), queryset=Stage.objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["stage"]).queryset = Stage.objects.filter(
            pipeline_id=self.record.pipeline_id
        ).select_related("pipeline")
        self.fields["stage"].initial = self.record.stage_id


class DealWinForm(ActionForm):
    amount = forms.DecimalField(label=gettext_lazy("final amount"), min_value=0, max_digits=16, decimal_places=2, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["amount"].initial = self.record.amount
        self.fields["amount"].help_text = self.record.currency


class LossReasonChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: LossReason) -> str:
        if obj.follow_up_after_days:
            return _("%(reason)s (follow up after %(days)s days)") % {
                "reason": obj.display_name,
                "days": obj.follow_up_after_days,
            }
        return obj.display_name


class DealLoseForm(ActionForm):
    """Why the deal was lost and, if the reason suggests it, when to try again (a task for the owner)."""

    # Not required here: the service says why a reason is needed, next to this field.
    loss_reason = LossReasonChoice(
        label=gettext_lazy("loss reason"), queryset=LossReason.objects.filter(is_active=True), required=False
    )
    note = forms.CharField(label=gettext_lazy("note"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    follow_up_on = forms.DateField(
        label=gettext_lazy("follow up on"),
        required=False,
        help_text=gettext_lazy("A task for the deal's owner on that day. Empty: after the reason's usual delay, if it has one."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._suggest_follow_up()

    def _suggest_follow_up(self) -> None:
        """Picking a reason with a follow-up delay proposes the date (the user may change or clear it)."""
        if self.is_bound or self.initial.get("follow_up_on"):
            return
        reason_id = str(self.initial.get("loss_reason") or "")
        reason = LossReason.objects.filter(pk=int(reason_id)).first() if reason_id.isdigit() else None
        if reason and reason.follow_up_after_days:
            self.initial["follow_up_on"] = timezone.localdate() + dt.timedelta(days=reason.follow_up_after_days)


class DealReopenForm(ActionForm):
    pass


class LeadConvertForm(ActionForm):
    """The deal a lead becomes; the contact and company come from the lead (an existing company may be picked)."""

    deal_title = forms.CharField(label=gettext_lazy("deal title"), max_length=200)
    amount = forms.DecimalField(label=gettext_lazy("amount"), min_value=0, max_digits=16, decimal_places=2, initial=0)
    currency = forms.ChoiceField(label=gettext_lazy("currency"), choices=CURRENCIES, initial=company_currency)
    pipeline = forms.ModelChoiceField(label=gettext_lazy("pipeline"), queryset=Pipeline.objects.all(), required=False)
    expected_close_date = forms.DateField(
        label=gettext_lazy("expected close date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    company = forms.ModelChoiceField(
        label=gettext_lazy("company"),
        queryset=Company.objects.all(),
        required=False,
        help_text=gettext_lazy("Empty: found or created from the lead's company name."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["deal_title"].initial = self.record.title
        self.fields["pipeline"].initial = Pipeline.objects.filter(is_default=True).first()


class LeadDisqualifyForm(ActionForm):
    # Named like the model field, so the service's "say why" lands here.
    disqualified_reason = forms.CharField(label=gettext_lazy("reason"), max_length=200, required=False)
