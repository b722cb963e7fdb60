"""Service case pages."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from quota.core.views import Column, RecordPages
from quota.service.filtersets import CaseFilterSet
from quota.service.forms import CaseEditForm, CaseForm
from quota.service.models import Case
from quota.service.services import case_create


class CasePages(RecordPages):
    model = Case
    slug = "cases"
    filterset_class = CaseFilterSet
    form_class = CaseForm
    edit_form_class = CaseEditForm
    search_fields = ("number", "subject", "company__name")
    related = ("company", "contact", "owner")
    badge_field = "status"
    columns = (
        Column("number", link=True, sort="number"),
        Column("subject", sort="subject"),
        Column("company", sort="company__name"),
        Column("contact"),
        Column("status", sort="status"),
        Column("priority", sort="priority"),
        Column("owner", sort="owner__last_name"),
        Column("created_at", sort="created_at"),
    )
    detail_fields = (
        Column("subject"),
        Column("company"),
        Column("contact"),
        Column("owner"),
        Column("priority"),
        Column("channel"),
        Column("created_at"),
        Column("response_due_at"),
        Column("first_response_at"),
        Column("resolved_at"),
        Column("description"),
    )

    @classmethod
    def create(cls, *, by: Any, data: dict[str, Any]) -> Case:
        return case_create(by=by, **data)

    @classmethod
    def activity_condition(cls, record: Case) -> Q | None:
        """Activities are not linked to cases; the customer's are the context an agent needs."""
        if record.contact_id:
            return Q(contact_id=record.contact_id)
        return Q(company_id=record.company_id) if record.company_id else None
