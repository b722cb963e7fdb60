"""Write paths for activities beyond plain create and edit (core.services): tasks done and reopened.

Saves go through the ORM (`save(update_fields=...)`), so the KPI rollups see them (kpi.rollups).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from quota.activities.models import Activity, ActivityKind
from quota.core.services import require_change


def _task_for_update(task: Activity, by: Any) -> Activity:
    task = Activity.objects.select_for_update().get(pk=task.pk)
    require_change(by, task)
    if task.kind != ActivityKind.TASK:
        raise ValidationError(_("Only tasks are done or open; this is a %(kind)s.") % {"kind": task.get_kind_display()})
    return task


@transaction.atomic
def task_complete(*, task: Activity, by: Any, at: dt.datetime | None = None) -> Activity:
    """Mark a task done (now, or `at`). A task already done keeps the moment it was done."""
    task = _task_for_update(task, by)
    if task.completed_at is None:
        task.completed_at = at or timezone.now()
        task.full_clean()
        task.save(update_fields=["completed_at"])
    return task


@transaction.atomic
def task_reopen(*, task: Activity, by: Any) -> Activity:
    """Make a done task open (to do) again."""
    task = _task_for_update(task, by)
    if task.completed_at is not None:
        task.completed_at = None
        task.save(update_fields=["completed_at"])
    return task
