"""The service board's own pieces: open cases (a snapshot KPI the catalogue does not have yet) and the oldest of them."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from quota.kpi.models import Metric
from quota.service.models import Case, CaseStatus

OPEN_STATUSES = [CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.PENDING]
OLDEST_SHOWN = 10


def open_cases_metric() -> Metric:
    """Cases open at the end of the period (now, for the current one): created by then and not resolved by then."""
    return Metric(
        key="open_cases",
        name=_("Open cases"),
        description=_("Cases open at the end of the period: created before it ended and not resolved by then."),
        definition={
            "source": "cases",
            "snapshot": {"from": "created_at", "until": "resolved_at"},
            "measure": {"kind": "count"},
            "unit": "count",
            "better": "lower",
        },
    )


def oldest_open_cases(*, user: Any) -> QuerySet[Case]:
    """The open cases waiting longest (records, for a table of links)."""
    return (
        Case.objects.visible_to(user)
        .filter(status__in=OPEN_STATUSES)
        .select_related("company", "owner")
        .order_by("created_at", "pk")[:OLDEST_SHOWN]
    )
