"""Write paths for the CRM: every change to leads and deals goes through here.

Services take keyword-only arguments, validate with `full_clean()` and run in one
transaction. `by` is the user acting (None for system work such as imports and seeds);
a user may only act on records `core.visibility` lets them change.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from quota.core import events
from quota.core.actor import acts_as_by
from quota.core.calendar import company_zone
from quota.core.money import company_currency, rate_on
from quota.core.services import model_update, record_create, record_update, require_change, require_owner_allowed
from quota.crm.choices import BusinessType, DealStatus, LeadStatus
from quota.crm.history import initial_states, record_change
from quota.crm.models import ChurnReason, Company, Contact, Deal, DealStageChange, DealState, Lead, LossReason, Pipeline, Stage


def _with_rate(record: Any, day: dt.date) -> None:
    record.exchange_rate = rate_on(record.currency, day)


# ----------------------------------------------------------------------------- leads


@acts_as_by
@transaction.atomic
def lead_create(*, by: Any, title: str, source: Any, owner: Any = None, **fields: Any) -> Lead:
    require_owner_allowed(by, owner)
    lead = Lead(title=title, source=source, owner=owner, **fields)
    lead.full_clean()
    lead.save()
    events.emit(events.LEAD_CREATED, lead_payload(lead))
    return lead


@acts_as_by
@transaction.atomic
def lead_convert(
    *,
    lead: Lead,
    by: Any,
    deal_title: str | None = None,
    amount: Decimal = Decimal("0"),
    currency: str | None = None,
    pipeline: Pipeline | None = None,
    expected_close_date: dt.date | None = None,
    company: Company | None = None,
    at: dt.datetime | None = None,
) -> Deal:
    """Turn a lead into a contact, a company (found or new) and an open deal, all or nothing.

    The company and contact are found by name and e-mail among those both the user converting and
    the deal's owner may see; anything else (another team's customer) is not attached: new ones are made.
    """
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    require_change(by, lead)
    if lead.status in (LeadStatus.CONVERTED, LeadStatus.DISQUALIFIED):
        raise ValidationError(_("This lead is already %(status)s.") % {"status": lead.get_status_display().lower()})
    at = at or timezone.now()
    owner = lead.owner or (by if by is not None and by.has_perm("records.create") else None)

    companies = _visible(Company.objects.all(), by, owner)
    if company is not None and not companies.filter(pk=company.pk).exists():
        raise ValidationError({"company": _("Choose a company you and the deal's owner may see.")})
    if company is None and lead.company_name:
        company = companies.filter(name__iexact=lead.company_name).first() or Company.objects.create(
            name=lead.company_name, owner=owner, created_at=at
        )
    contact = None
    if lead.last_name or lead.first_name or lead.email:
        contacts = _visible(Contact.objects.filter(email__iexact=lead.email), by, owner)
        contact = contacts.first() if lead.email else None
        if contact is None:
            contact = Contact(
                first_name=lead.first_name,
                last_name=lead.last_name or lead.email or lead.title,
                email=lead.email,
                phone=lead.phone,
                company=company,
                owner=owner,
                created_at=at,
            )
            contact.full_clean()
            contact.save()
    existing_customer = company is not None and Deal.objects.filter(company=company, status=DealStatus.WON).exists()
    deal = deal_create(
        by=None,  # permission was checked on the lead
        title=deal_title or lead.title,
        owner=owner,
        company=company,
        contact=contact,
        amount=amount,
        currency=currency or company_currency(),
        pipeline=pipeline,
        expected_close_date=expected_close_date,
        source=lead.source,
        lead=lead,
        business_type=BusinessType.EXISTING if existing_customer else BusinessType.NEW,
        created_at=max(at, lead.created_at),
    )
    lead.status = LeadStatus.CONVERTED
    lead.converted_at = deal.created_at
    lead.contact = contact
    lead.company = company
    lead.full_clean()
    lead.save()
    return deal


def _visible(records: Any, *people: Any) -> Any:
    """`records` that every one of `people` may read (None: system work, which reads everything)."""
    for person in people:
        if person is not None:
            records = records.visible_to(person)
    return records


@acts_as_by
@transaction.atomic
def lead_disqualify(*, lead: Lead, by: Any, reason: str) -> Lead:
    require_change(by, lead)
    if lead.status == LeadStatus.CONVERTED:
        raise ValidationError(_("A converted lead cannot be disqualified."))
    if not reason.strip():
        raise ValidationError({"disqualified_reason": _("Say why the lead is disqualified.")})
    lead.status = LeadStatus.DISQUALIFIED
    lead.disqualified_reason = reason.strip()
    lead.save(update_fields=["status", "disqualified_reason"])
    return lead


# ----------------------------------------------------------------------------- deals


@acts_as_by
@transaction.atomic
def deal_create(
    *,
    by: Any,
    title: str,
    owner: Any = None,
    pipeline: Pipeline | None = None,
    stage: Stage | None = None,
    amount: Decimal = Decimal("0"),
    currency: str | None = None,
    created_at: dt.datetime | None = None,
    **fields: Any,
) -> Deal:
    """Open a deal in the first stage of its pipeline (or the stage given), recording that first step."""
    require_owner_allowed(by, owner)
    pipeline = pipeline or (stage.pipeline if stage else Pipeline.objects.filter(is_default=True).first())
    if pipeline is None:
        raise ValidationError({"pipeline": _("There is no pipeline yet; create one first.")})
    stage = stage or pipeline.stages.order_by("position").first()
    if stage is None:
        raise ValidationError({"stage": _("The pipeline %(name)s has no stages.") % {"name": pipeline.name}})
    created_at = created_at or timezone.now()
    deal = Deal(
        title=title,
        owner=owner,
        pipeline=pipeline,
        stage=stage,
        amount=amount,
        currency=currency or company_currency(),
        created_at=created_at,
        stage_changed_at=created_at,
        **fields,
    )
    if amount is not None and amount < 0:
        raise ValidationError({"amount": _("The amount cannot be negative.")})
    _with_rate(deal, created_at.date())
    deal.full_clean()
    deal.save()
    DealStageChange.objects.create(
        deal=deal, from_stage=None, to_stage=stage, from_status="", to_status=deal.status, changed_at=created_at, changed_by=by
    )
    DealState.objects.bulk_create(initial_states(deal))
    return deal


def _record_move(deal: Deal, *, by: Any, from_stage: Stage, from_status: str, at: dt.datetime) -> None:
    record_change(deal, at=at)
    DealStageChange.objects.create(
        deal=deal,
        from_stage=from_stage,
        to_stage=deal.stage,
        from_status=from_status,
        to_status=deal.status,
        changed_at=at,
        changed_by=by,
    )
    name = {"won": events.DEAL_WON, "lost": events.DEAL_LOST}.get(str(deal.status), events.DEAL_STAGE_CHANGED)
    events.emit(name, {**deal_payload(deal), "from_stage": from_stage.name, "from_status": from_status})


def deal_payload(deal: Deal) -> dict[str, Any]:
    """What listeners (webhooks) are told about a deal."""
    return {
        "id": deal.pk,
        "title": deal.title,
        "status": deal.status,
        "stage": deal.stage.name,
        "pipeline": deal.pipeline.name,
        "amount": str(deal.amount),
        "currency": deal.currency,
        "owner": deal.owner.username if deal.owner else None,
        "company_id": deal.company_id,
        "closed_at": deal.closed_at.isoformat() if deal.closed_at else None,
        "loss_reason": deal.loss_reason.name if deal.loss_reason else None,
    }


def lead_payload(lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.pk,
        "title": lead.title,
        "source": lead.source.key,
        "status": lead.status,
        "email": lead.email,
        "company_name": lead.company_name,
        "owner": lead.owner.username if lead.owner else None,
        "utm": lead.utm,
        "created_at": lead.created_at.isoformat(),
    }


@acts_as_by
@transaction.atomic
def deal_move_stage(*, deal: Deal, stage: Stage, by: Any, at: dt.datetime | None = None) -> Deal:
    """Move an open deal to another stage of its pipeline; the move is recorded."""
    deal = Deal.objects.select_for_update().get(pk=deal.pk)
    require_change(by, deal)
    if deal.status != DealStatus.OPEN:
        raise ValidationError(_("Only open deals move between stages; reopen it first."))
    if stage.pipeline_id != deal.pipeline_id:
        raise ValidationError({"stage": _("This stage belongs to another pipeline.")})
    if stage.pk == deal.stage_id:
        return deal
    at = at or timezone.now()
    if at < deal.created_at:
        raise ValidationError(_("A deal cannot change stage before it was created."))
    from_stage = deal.stage
    deal.stage = stage
    deal.stage_changed_at = at
    deal.save(update_fields=["stage", "stage_changed_at"])
    _record_move(deal, by=by, from_stage=from_stage, from_status=DealStatus.OPEN, at=at)
    return deal


@acts_as_by
@transaction.atomic
def deal_close_won(*, deal: Deal, by: Any, at: dt.datetime | None = None, amount: Decimal | None = None) -> Deal:
    """Mark an open deal won (optionally at its final amount)."""
    deal = Deal.objects.select_for_update().get(pk=deal.pk)
    require_change(by, deal)
    if deal.status != DealStatus.OPEN:
        raise ValidationError(_("This deal is already %(status)s.") % {"status": deal.get_status_display().lower()})
    at = at or timezone.now()
    if amount is not None:
        deal.amount = amount
    deal.status = DealStatus.WON
    deal.closed_at = at
    deal.loss_reason = None
    deal.full_clean()
    deal.save()
    _record_move(deal, by=by, from_stage=deal.stage, from_status=DealStatus.OPEN, at=at)
    _became_customer(deal)
    return deal


def _became_customer(deal: Deal) -> None:
    """A company is a customer from its first won deal's day, unless a date was given already.

    Only an empty date is filled: a date someone set (an import, the company form) is theirs, and a churned
    company that buys again keeps its dates until someone reactivates it (company_reactivate). One indexed
    read (none found once the company has a date), and a save, not a queryset update, so the KPI rollups
    and cached figures over companies hear of it.
    """
    if deal.company_id is None or deal.closed_at is None:
        return
    company = Company.objects.filter(pk=deal.company_id, customer_since__isnull=True).first()
    if company is not None:
        company.customer_since = timezone.localdate(deal.closed_at, company_zone())  # first_won_day's day
        company.save(update_fields=["customer_since"])


@acts_as_by
@transaction.atomic
def deal_close_lost(
    *,
    deal: Deal,
    by: Any,
    reason: LossReason | None,
    note: str = "",
    at: dt.datetime | None = None,
    follow_up_on: dt.date | None = None,
) -> Deal:
    """Mark an open deal lost; a reason is required.

    A follow-up task for the owner is created on `follow_up_on`, or else after the delay the
    loss reason sets (none when the reason has no delay, e.g. "Competitor chosen").
    """
    if reason is None:
        raise ValidationError({"loss_reason": _("Say why the deal was lost.")})
    deal = Deal.objects.select_for_update().get(pk=deal.pk)
    require_change(by, deal)
    if deal.status != DealStatus.OPEN:
        raise ValidationError(_("This deal is already %(status)s.") % {"status": deal.get_status_display().lower()})
    at = at or timezone.now()
    deal.status = DealStatus.LOST
    deal.closed_at = at
    deal.loss_reason = reason
    deal.loss_note = note
    deal.full_clean()
    deal.save()
    _record_move(deal, by=by, from_stage=deal.stage, from_status=DealStatus.OPEN, at=at)
    _schedule_follow_up(deal, on=follow_up_on)
    return deal


def _schedule_follow_up(deal: Deal, *, on: dt.date | None) -> None:
    from quota.activities.models import Activity, ActivityKind

    assert deal.closed_at is not None and deal.loss_reason is not None
    if on is None:
        if deal.loss_reason.follow_up_after_days is None:
            return
        due = deal.closed_at + dt.timedelta(days=deal.loss_reason.follow_up_after_days)
    else:
        if on < timezone.localdate(deal.closed_at):
            raise ValidationError({"follow_up_on": _("The follow-up date cannot be before the deal was lost.")})
        due = timezone.make_aware(dt.datetime.combine(on, dt.time(9)))
    Activity.objects.create(
        kind=ActivityKind.TASK,
        subject=_("Follow up on lost deal: %(title)s") % {"title": deal.title},
        notes=_("Lost because: %(reason)s. %(note)s") % {"reason": deal.loss_reason.name, "note": deal.loss_note},
        owner=deal.owner,
        deal=deal,
        contact=deal.contact,
        company=deal.company,
        occurred_at=due,
        created_at=deal.closed_at,
    )


@acts_as_by
@transaction.atomic
def deal_win_back(*, lost_deal: Deal, by: Any, title: str | None = None, amount: Decimal | None = None, **fields: Any) -> Deal:
    """Open a new deal to win back a lost one; the link feeds the win-back rate KPI."""
    require_change(by, lost_deal)
    if lost_deal.status != DealStatus.LOST:
        raise ValidationError(_("Only a lost deal can be won back."))
    return deal_create(
        by=by,
        title=title or _("Win back: %(title)s") % {"title": lost_deal.title},
        owner=fields.pop("owner", lost_deal.owner),
        company=lost_deal.company,
        contact=lost_deal.contact,
        pipeline=lost_deal.pipeline,
        amount=lost_deal.amount if amount is None else amount,
        currency=lost_deal.currency,
        source=lost_deal.source,
        business_type=lost_deal.business_type,
        won_back_from=lost_deal,
        **fields,
    )


@acts_as_by
@transaction.atomic
def deal_reopen(*, deal: Deal, by: Any, at: dt.datetime | None = None) -> Deal:
    """Reopen a won or lost deal in the stage it closed from."""
    deal = Deal.objects.select_for_update().get(pk=deal.pk)
    require_change(by, deal)
    if deal.status == DealStatus.OPEN:
        return deal
    previous = deal.status
    deal.status = DealStatus.OPEN
    deal.closed_at = None
    deal.loss_reason = None
    deal.loss_note = ""
    deal.full_clean()
    deal.save()
    _record_move(deal, by=by, from_stage=deal.stage, from_status=previous, at=at or timezone.now())
    return deal


DEAL_EDITABLE_FIELDS = {
    "title",
    "company",
    "contact",
    "owner",
    "amount",
    "currency",
    "expected_close_date",
    "business_type",
    "source",
    "custom",
}


@acts_as_by
@transaction.atomic
def deal_update(*, deal: Deal, by: Any, data: dict[str, Any]) -> Deal:
    """Change a deal's plain fields. Stage and outcome have their own services (they are recorded)."""
    require_change(by, deal)
    unknown = set(data) - DEAL_EDITABLE_FIELDS
    if unknown:
        raise ValidationError(
            _("Use the stage and close actions to change: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        )
    if "owner" in data and data["owner"] != deal.owner:
        require_owner_allowed(by, data["owner"])
    if model_update(instance=deal, data=data, editable=DEAL_EDITABLE_FIELDS, derive=_rate_follows_currency):
        record_change(deal, at=timezone.now())
    return deal


def _rate_follows_currency(deal: Deal, changed: list[str]) -> list[str]:
    """A deal's amount is converted at the rate of the day it was created, in its (new) currency."""
    if "currency" not in changed:
        return []
    _with_rate(deal, deal.created_at.date())
    return ["exchange_rate"]


def company_create(*, by: Any, name: str, owner: Any = None, **fields: Any) -> Company:
    return record_create(model=Company, by=by, name=name, owner=owner, **fields)


@acts_as_by
@transaction.atomic
def company_churn(*, company: Company, by: Any, on: dt.date, reason: ChurnReason | None, since: dt.date | None = None) -> Company:
    """Record that a customer stopped being one on `on`, and why (a reason is required, as for a lost deal).

    A company with no customer-since date needs `since` (a prospect cannot churn).
    """
    if reason is None:
        raise ValidationError({"churn_reason": _("Say why the customer left.")})
    company = Company.objects.select_for_update().get(pk=company.pk)  # the caller's copy stays as it was if refused
    data: dict[str, Any] = {"churned_on": on, "churn_reason": reason}
    if since is not None:
        data["customer_since"] = since
    return record_update(instance=company, by=by, data=data)


@acts_as_by
@transaction.atomic
def company_reactivate(*, company: Company, by: Any, since: dt.date | None = None) -> Company:
    """A churned company is a customer again: its churn is cleared; `since` restarts its customer-since date if given."""
    company = Company.objects.select_for_update().get(pk=company.pk)
    data: dict[str, Any] = {"churned_on": None, "churn_reason": None}
    if since is not None:
        data["customer_since"] = since
    return record_update(instance=company, by=by, data=data)


def contact_create(*, by: Any, last_name: str, owner: Any = None, **fields: Any) -> Contact:
    return record_create(model=Contact, by=by, last_name=last_name, owner=owner, **fields)
