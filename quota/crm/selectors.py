"""Reads of the pipeline as it stood at a moment, from the stage history (crm.DealStageChange).

A past period's pipeline is the deals open at its end, each in the stage it was in then: the last
stage change before that moment says which (a deal with no history yet is in its current stage).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Expression, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from quota.crm.models import DealStageChange
from quota.kpi.filters import open_condition


def stage_at(moment: dt.datetime) -> Expression:
    """A deal's stage at `moment` (for `Deal` querysets): the stage its last change before then moved it to."""
    last = DealStageChange.objects.filter(deal=OuterRef("pk"), changed_at__lt=moment).order_by("-changed_at", "-pk")
    return Coalesce(Subquery(last.values("to_stage")[:1]), "stage", output_field=IntegerField())


def open_at(moment: dt.datetime) -> Q:
    """Deals open at `moment`: created before it and not closed by then (as the snapshot KPIs count them)."""
    return open_condition(moment, begins="created_at", ends="closed_at")
