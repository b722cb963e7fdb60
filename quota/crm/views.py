"""CRM pages: companies, contacts, leads, deals, their actions, and the pipeline board."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import models
from django.db.models import Case, DateField, F, Q, QuerySet, When
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django_htmx.http import reswap, retarget, trigger_client_event

from quota.activities.models import Activity
from quota.audit.views import HasChangeHistory
from quota.core.htmx import htmx_target, is_htmx
from quota.core.money import in_company_currency
from quota.core.pagecache import live_page
from quota.core.views import (
    Action,
    Column,
    FormT,
    Panel,
    RecordActionView,
    RecordPages,
    RelatedList,
    redirect_after_change,
)
from quota.crm import services
from quota.crm.choices import DealStatus, LeadStatus
from quota.crm.filtersets import CompanyFilterSet, ContactFilterSet, DealFilterSet, LeadFilterSet
from quota.crm.forms import (
    CompanyForm,
    ContactForm,
    DealEditForm,
    DealForm,
    DealLoseForm,
    DealMoveForm,
    DealReopenForm,
    DealWinForm,
    LeadConvertForm,
    LeadDisqualifyForm,
    LeadForm,
    use_source_choices,
)
from quota.crm.models import Company, Contact, Deal, Lead
from quota.crm.selectors import pipeline_board, with_hygiene_flags

# --------------------------------------------------------------------------- record pages


def close_date() -> Case:
    """When a deal closes: the expected day while it is open, the day it closed (company time) once won or lost."""
    return Case(
        When(status=DealStatus.OPEN, then=F("expected_close_date")),
        default=TruncDate("closed_at"),
        output_field=DateField(),
    )


class CompanyPages(HasChangeHistory, RecordPages):
    model = Company
    slug = "companies"
    filterset_class = CompanyFilterSet
    form_class = CompanyForm
    search_fields = ("name", "domain", "city")
    related = ("owner",)
    columns = (
        Column("name", link=True, sort="name"),
        Column("industry", sort="industry"),
        Column("country", sort="country"),
        Column("city", sort="city"),
        Column("lifecycle", sort="lifecycle"),
        Column("owner", sort="owner__last_name"),
        Column("created_at", sort="created_at"),
    )
    detail_fields = (
        Column("domain"),
        Column("industry"),
        Column("country"),
        Column("city"),
        Column("phone"),
        Column("employees"),
        Column("annual_revenue"),
        Column("owner"),
        Column("lifecycle"),
        Column("customer_since"),
        Column("churned_on"),
        Column("churn_reason"),
        Column("created_at"),
    )
    related_lists = (
        RelatedList(gettext_lazy("Contacts"), "quota.crm.views.ContactPages", "company"),
        RelatedList(gettext_lazy("Deals"), "quota.crm.views.DealPages", "company"),
        RelatedList(gettext_lazy("Cases"), "quota.service.views.CasePages", "company"),
    )
    log_target = "company"

    @classmethod
    def create(cls, *, by: Any, data: dict[str, Any]) -> Company:
        return services.company_create(by=by, **data)

    @classmethod
    def activity_condition(cls, record: Company) -> Q:
        # The company's own activities and those on its deals and people, as subqueries the indexes serve.
        return (
            Q(company=record)
            | Q(deal__in=Deal.objects.filter(company=record).values("pk"))
            | Q(contact__in=Contact.objects.filter(company=record).values("pk"))
        )


class ContactPages(HasChangeHistory, RecordPages):
    model = Contact
    slug = "contacts"
    filterset_class = ContactFilterSet
    form_class = ContactForm
    search_fields = ("first_name", "last_name", "email")
    related = ("company", "owner")
    columns = (
        Column("", label=gettext_lazy("name"), link=True, sort="last_name"),
        Column("company", sort="company__name"),
        Column("job_title"),
        Column("email", sort="email"),
        Column("phone"),
        Column("owner", sort="owner__last_name"),
    )
    detail_fields = (
        Column("company"),
        Column("job_title"),
        Column("email"),
        Column("phone"),
        Column("owner"),
        Column("created_at"),
    )
    related_lists = (RelatedList(gettext_lazy("Deals"), "quota.crm.views.DealPages", "contact"),)
    log_target = "contact"

    @classmethod
    def create(cls, *, by: Any, data: dict[str, Any]) -> Contact:
        return services.contact_create(by=by, **data)

    @classmethod
    def activity_condition(cls, record: Contact) -> Q:
        return Q(contact=record)


class LeadPages(RecordPages):
    model = Lead
    slug = "leads"
    filterset_class = LeadFilterSet
    form_class = LeadForm
    search_fields = ("title", "last_name", "email", "company_name")
    related = ("owner", "source")
    detail_related = ("campaign", "contact", "company")
    badge_field = "status"
    columns = (
        Column("title", link=True, sort="title"),
        Column("company_name", sort="company_name"),
        Column("source", sort="source__name"),
        Column("status", sort="status"),
        Column("owner", sort="owner__last_name"),
        Column("created_at", sort="created_at"),
    )
    detail_fields = (
        Column("first_name"),
        Column("last_name"),
        Column("company_name"),
        Column("email"),
        Column("phone"),
        Column("source"),
        Column("campaign"),
        Column("owner"),
        Column("created_at"),
        Column("converted_at"),
        Column("contact"),
        Column("company"),
        Column("disqualified_reason"),
    )
    related_lists = (RelatedList(gettext_lazy("Deals"), "quota.crm.views.DealPages", "lead"),)

    @classmethod
    def create(cls, *, by: Any, data: dict[str, Any]) -> Lead:
        return services.lead_create(by=by, **data)

    @classmethod
    def activity_condition(cls, record: Lead) -> Q | None:
        """A lead has no activities of its own; once converted, those of its deal and contact."""
        if record.status != LeadStatus.CONVERTED:
            return None
        return Q(deal__lead=record) | Q(contact_id=record.contact_id) if record.contact_id else Q(deal__lead=record)

    @classmethod
    def actions(cls, request: HttpRequest, record: Lead) -> list[Action]:
        if record.status not in (LeadStatus.OPEN, LeadStatus.QUALIFIED):
            return []
        return [
            Action(_("Convert"), reverse("crm:lead_convert", args=[record.pk]), style="primary"),
            Action(_("Disqualify"), reverse("crm:lead_disqualify", args=[record.pk]), style="danger"),
        ]

    @classmethod
    def prepare_filter_form(cls, form: Any, user: Any) -> None:
        use_source_choices(form)


class DealPages(HasChangeHistory, RecordPages):
    model = Deal
    slug = "deals"
    filterset_class = DealFilterSet
    form_class = DealForm
    edit_form_class = DealEditForm
    search_fields = ("title", "company__name")
    related = ("owner", "company", "stage")
    detail_related = ("pipeline", "contact", "source", "lead", "loss_reason")
    badge_field = "status"
    columns = (
        Column("title", link=True, sort="title"),
        Column("company", sort="company__name"),
        Column("stage.display_name", label=gettext_lazy("stage"), sort="stage__position"),
        Column("amount", sort="amount"),
        Column("status", sort="status"),
        Column("owner", sort="owner__last_name"),
        Column("close_date", label=gettext_lazy("close date"), sort="close_date"),
        Column("hygiene_flags", label=gettext_lazy("flags")),
        Column("created_at", sort="created_at"),
    )
    detail_fields = (
        Column("company"),
        Column("contact"),
        Column("amount"),
        Column("pipeline"),
        Column("stage.display_name", label=gettext_lazy("stage")),
        Column("stage_changed_at"),
        Column("owner"),
        Column("expected_close_date"),
        Column("business_type"),
        Column("source"),
        Column("lead"),
        Column("created_at"),
        Column("closed_at"),
        Column("loss_reason"),
        Column("loss_note"),
    )
    related_lists = (
        RelatedList(gettext_lazy("Offers"), "quota.sales.views.OfferPages", "deal"),
        RelatedList(gettext_lazy("Orders"), "quota.sales.views.OrderPages", "deal"),
    )
    log_target = "deal"

    @classmethod
    def queryset(cls, user: Any) -> QuerySet:
        """Each deal read with its close date and its overdue and stale flags (crm.selectors), in the same query."""
        return with_hygiene_flags(super().queryset(user)).annotate(close_date=close_date())

    @classmethod
    def create(cls, *, by: Any, data: dict[str, Any]) -> Deal:
        return services.deal_create(by=by, **data)

    @classmethod
    def update(cls, *, record: Any, by: Any, data: dict[str, Any]) -> Deal:
        return services.deal_update(deal=record, by=by, data=data)

    @classmethod
    def rows_read(cls, request: HttpRequest) -> tuple[type[models.Model], str] | None:
        # The flags and the timeline read the shown deals' own activities; the flag filter reads every deal's.
        return None if request.GET.get("flag") else (Activity, "deal")

    @classmethod
    def activity_condition(cls, record: Deal) -> Q:
        return Q(deal=record)

    @classmethod
    def actions(cls, request: HttpRequest, record: Deal) -> list[Action]:
        if record.status != DealStatus.OPEN:
            return [Action(_("Reopen"), reverse("crm:deal_reopen", args=[record.pk]))]
        return [
            Action(_("Move"), reverse("crm:deal_move", args=[record.pk])),
            Action(_("Won"), reverse("crm:deal_win", args=[record.pk]), style="primary"),
            Action(_("Lost"), reverse("crm:deal_lose", args=[record.pk]), style="danger"),
        ]

    @classmethod
    def panels(cls, request: HttpRequest, record: Deal) -> list[Panel]:
        history = record.stage_changes.select_related("from_stage", "to_stage", "changed_by").order_by("-changed_at", "-pk")
        return [
            Panel(template="crm/_stage_history.html", title=gettext_lazy("Stage history"), data={"changes": history[:50]}),
            *super().panels(request, record),
        ]

    @classmethod
    def prepare_filter_form(cls, form: Any, user: Any) -> None:
        use_source_choices(form)

    @classmethod
    def total(cls) -> Any:
        return in_company_currency("amount")  # as the KPIs add it up (kpi.sources: the same expression)

    @classmethod
    def list_note(cls, filterset: Any) -> str:
        day = getattr(filterset.form, "cleaned_data", {}).get("open_on")
        if not day:
            return ""
        return _("Deals as they stood on %(day)s: those open at the end of that day (amounts and stages shown are today's).") % {
            "day": date_format(day, "SHORT_DATE_FORMAT")
        }


# --------------------------------------------------------------------------- actions on deals and leads


class FromBoard(RecordActionView[Deal, FormT]):
    """An action the pipeline board also runs: a card dropped on a stage, on "Won" or on "Lost".

    A drop posts with HTMX aimed at the board (the Lost dialog's form carries `?board=1` instead),
    and the answer is the refreshed board; a refusal leaves the card where it was and says why.
    """

    def from_board(self) -> bool:
        return is_htmx(self.request) and (htmx_target(self.request) == "board" or bool(self.request.GET.get("board")))

    def board(self, deal: Deal) -> HttpResponse:
        owner_id = self.request.POST.get("owner") or self.request.GET.get("owner")
        response = render_board(self.request, pipeline_id=deal.pipeline_id, owner_id=owner_id, partial=True)
        # The Lost dialog's form asked: the board is swapped instead of the form, and the dialog closes.
        return trigger_client_event(reswap(retarget(response, "#board"), "outerHTML"), "board-dialog-close")

    def action_url(self) -> str:
        return self.request.get_full_path() if self.from_board() else self.request.path

    def invalid(self, record: Deal, form: Any) -> HttpResponse:
        if self.from_board() and htmx_target(self.request) == "board":
            message = " ".join(str(error) for errors in form.errors.values() for error in errors)
            return render(self.request, "core/_error.html", {"message": message}, status=422)
        return super().invalid(record, form)


class DealMoveView(FromBoard[DealMoveForm]):
    """Move an open deal to another stage: from its page, or by dragging its card on the board."""

    form_class = DealMoveForm
    title = gettext_lazy("Move to another stage")
    submit_label = gettext_lazy("Move")

    def perform(self, record: Deal, form: DealMoveForm) -> HttpResponse:
        deal = services.deal_move_stage(deal=record, stage=form.cleaned_data["stage"], by=self.request.user)
        if self.from_board():
            return self.board(deal)
        messages.success(self.request, _("%(deal)s moved to %(stage)s.") % {"deal": deal, "stage": deal.stage.display_name})
        return redirect_after_change(self.request, reverse("crm:deal_detail", args=[deal.pk]))


class DealWinView(FromBoard[DealWinForm]):
    """Mark a deal won: from its page, or by dropping its card on the board's "Won"."""

    form_class = DealWinForm
    title = gettext_lazy("Mark the deal won")
    submit_label = gettext_lazy("Mark won")

    def perform(self, record: Deal, form: DealWinForm) -> HttpResponse:
        deal = services.deal_close_won(deal=record, by=self.request.user, amount=form.cleaned_data["amount"])
        if self.from_board():
            return self.board(deal)
        messages.success(self.request, _("%(deal)s is won. Well done!") % {"deal": deal})
        return redirect_after_change(self.request, reverse("crm:deal_detail", args=[deal.pk]))


class DealLoseView(FromBoard[DealLoseForm]):
    """Mark a deal lost with its reason: from its page, or in the dialog a drop on the board's "Lost" opens."""

    form_class = DealLoseForm
    title = gettext_lazy("Mark the deal lost")
    submit_label = gettext_lazy("Mark lost")

    def get_form(self, record: Any, *, data: Any = None, initial: dict[str, Any] | None = None) -> DealLoseForm:
        form = super().get_form(record, data=data, initial=initial)
        # Picking a reason fetches the form for that reason and swaps in its follow-up date alone. The GET
        # carries the reason only: never the note being typed nor the CSRF token, which would land in logs.
        follow_up = f"#{form['follow_up_on'].id_for_label}"
        form.fields["loss_reason"].widget.attrs.update(
            {
                "hx-get": self.request.path,
                "hx-trigger": "change",
                "hx-select": follow_up,
                "hx-target": follow_up,
                "hx-swap": "outerHTML",
            }
        )
        return form

    def perform(self, record: Deal, form: DealLoseForm) -> HttpResponse:
        data = form.cleaned_data
        deal = services.deal_close_lost(
            deal=record, by=self.request.user, reason=data["loss_reason"], note=data["note"], follow_up_on=data["follow_up_on"]
        )
        if self.from_board():
            return self.board(deal)
        messages.success(self.request, _("%(deal)s is marked lost.") % {"deal": deal})
        return redirect_after_change(self.request, reverse("crm:deal_detail", args=[deal.pk]))


class DealReopenView(RecordActionView[Deal, DealReopenForm]):
    form_class = DealReopenForm
    title = gettext_lazy("Reopen the deal in the stage it closed from?")
    submit_label = gettext_lazy("Reopen")

    def perform(self, record: Deal, form: DealReopenForm) -> HttpResponse:
        deal = services.deal_reopen(deal=record, by=self.request.user)
        messages.success(self.request, _("%(deal)s is open again.") % {"deal": deal})
        return redirect_after_change(self.request, reverse("crm:deal_detail", args=[deal.pk]))


class LeadConvertView(RecordActionView[Lead, LeadConvertForm]):
    form_class = LeadConvertForm
    title = gettext_lazy("Convert the lead into a deal")
    submit_label = gettext_lazy("Convert")

    def perform(self, record: Lead, form: LeadConvertForm) -> HttpResponse:
        data = dict(form.cleaned_data)
        data["deal_title"] = data["deal_title"].strip() or None
        deal = services.lead_convert(lead=record, by=self.request.user, **data)
        messages.success(self.request, _("%(lead)s is now the deal %(deal)s.") % {"lead": record, "deal": deal})
        return redirect_after_change(self.request, reverse("crm:deal_detail", args=[deal.pk]))


class LeadDisqualifyView(RecordActionView[Lead, LeadDisqualifyForm]):
    form_class = LeadDisqualifyForm
    title = gettext_lazy("Disqualify the lead")
    submit_label = gettext_lazy("Disqualify")

    def perform(self, record: Lead, form: LeadDisqualifyForm) -> HttpResponse:
        lead = services.lead_disqualify(lead=record, by=self.request.user, reason=form.cleaned_data["disqualified_reason"])
        messages.success(self.request, _("%(lead)s is disqualified.") % {"lead": lead})
        return redirect_after_change(self.request, reverse("crm:lead_detail", args=[lead.pk]))


# --------------------------------------------------------------------------- the pipeline board


def render_board(request: HttpRequest, *, pipeline_id: Any, owner_id: Any, partial: bool) -> HttpResponse:
    board = pipeline_board(request.user, pipeline_id=pipeline_id, owner_id=owner_id)
    return render(request, "crm/_board.html" if partial else "crm/board.html", {"board": board})


@method_decorator(live_page, name="get")
class BoardView(LoginRequiredMixin, View):
    """/crm/board/: drag a card to another column to move the deal (see static/js/board.js)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        partial = htmx_target(request) == "board"
        return render_board(request, pipeline_id=request.GET.get("pipeline"), owner_id=request.GET.get("owner"), partial=partial)
