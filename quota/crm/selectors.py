"""Reads of deals that several pages share, defined once here.

Pipeline hygiene: which open deals are overdue or stale (the board, the deal list and its filter, the seller's
dashboard and the notifications):
- **Overdue**: open, and its expected close date is before today (the company's day).
- **Stale**: open, and neither a stage change nor a logged activity (a call, e-mail, meeting or a done
  task; a task still to do is a plan, not work) for `CRM_STALE_DEAL_DAYS` days (30 by default).
Both are conditions (`Q`), so a list filters by them and a board annotates them in the query it already
makes: no extra query per card.

The pipeline as it stood at a moment, from the stage history (crm.DealStageChange): a past period's
pipeline is the deals open at its end, each in the stage it was in then (the last stage change before that
moment says which; a deal with no history yet is in its current stage).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import BooleanField, Exists, Expression, ExpressionWrapper, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from quota.activities.models import Activity, ActivityKind
from quota.core.filtersets import open_condition
from quota.crm.choices import DealStatus
from quota.crm.models import Deal, DealStageChange

DEFAULT_STALE_DAYS = 30


def stale_after_days() -> int:
    """Days without a stage change or activity after which an open deal is stale (setting CRM_STALE_DEAL_DAYS)."""
    return int(getattr(settings, "CRM_STALE_DEAL_DAYS", DEFAULT_STALE_DAYS))


def overdue_condition(*, today: dt.date) -> Q:
    return Q(status=DealStatus.OPEN, expected_close_date__lt=today)


def stale_condition(*, now: dt.datetime) -> Q:
    since = now - dt.timedelta(days=stale_after_days())
    worked_on = (
        Activity.objects.filter(deal=OuterRef("pk"), occurred_at__gte=since, occurred_at__lte=now)
        .exclude(kind=ActivityKind.TASK, completed_at__isnull=True)
        .values("pk")
    )
    return Q(status=DealStatus.OPEN, stage_changed_at__lt=since) & ~Q(Exists(worked_on))


def overdue_deals(deals: QuerySet[Deal], *, now: dt.datetime | None = None) -> QuerySet[Deal]:
    return deals.filter(overdue_condition(today=timezone.localdate(now or timezone.now())))


def stale_deals(deals: QuerySet[Deal], *, now: dt.datetime | None = None) -> QuerySet[Deal]:
    return deals.filter(stale_condition(now=now or timezone.now()))


def with_hygiene_flags(deals: QuerySet[Deal], *, now: dt.datetime | None = None) -> QuerySet[Deal]:
    """`deals` with `is_overdue` and `is_stale` read in the same query."""
    now = now or timezone.now()
    return deals.annotate(
        is_overdue=ExpressionWrapper(overdue_condition(today=timezone.localdate(now)), output_field=BooleanField()),
        is_stale=ExpressionWrapper(stale_condition(now=now), output_field=BooleanField()),
    )


def stage_at(moment: dt.datetime) -> Expression:
    """A deal's stage at `moment` (for `Deal` querysets): the stage its last change before then moved it to."""
    last = DealStageChange.objects.filter(deal=OuterRef("pk"), changed_at__lt=moment).order_by("-changed_at", "-pk")
    return Coalesce(Subquery(last.values("to_stage")[:1]), "stage", output_field=IntegerField())


def open_at(moment: dt.datetime) -> Q:
    """Deals open at `moment`: created before it and not closed by then (as the snapshot KPIs count them)."""
    return open_condition(moment, begins="created_at", ends="closed_at")
