"""Write paths for service cases: numbering, the first-response deadline, the created event."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from quota.core import events
from quota.core.services import record_create
from quota.service.models import FIRST_RESPONSE_SLA_HOURS, Case, CasePriority


def next_case_number() -> str:
    last = Case.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return f"C-{last + 1:06d}"


@transaction.atomic
def case_create(*, by: Any, subject: str, priority: str = CasePriority.NORMAL, **fields: Any) -> Case:
    """Open a case; its first response is due within the SLA hours of its priority."""
    created_at = fields.pop("created_at", None) or timezone.now()
    fields.setdefault("number", next_case_number())
    fields.setdefault("response_due_at", created_at + dt.timedelta(hours=FIRST_RESPONSE_SLA_HOURS.get(priority, 24)))
    case = record_create(model=Case, by=by, subject=subject, priority=priority, created_at=created_at, **fields)
    events.emit(
        events.CASE_CREATED,
        {
            "id": case.pk,
            "number": case.number,
            "subject": case.subject,
            "priority": case.priority,
            "status": case.status,
            "company_id": case.company_id,
            "contact_id": case.contact_id,
            "created_at": case.created_at.isoformat(),
        },
    )
    return case
