"""Activities: calls, e-mails, meetings and tasks, with the deal, contact or company they were about.

A file gives a call's length in whichever way it has it: seconds (the model's field), minutes, or a
written duration ("1:05:30", "12 min", "1h 30m"). A task's date may come from a due date column, and
whether it is done from a yes/no column. Links filled from one another as logging on a page does: an
activity about a deal is also about its contact and company, one about a contact about its company.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from quota.activities.models import Activity, ActivityKind
from quota.crm.models import Contact, Deal
from quota.imports.keys import Key, key_named
from quota.imports.problems import ProblemKind
from quota.imports.targets.base import FieldKind, RowWork, StepContext, Target, TargetField
from quota.imports.targets.rows import Derived, is_left_alone, is_new

SECONDS_PER_UNIT = {
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
}
CLOCK = re.compile(r"^(\d+):([0-5]\d):([0-5]\d)$")  # h:mm:ss
TWO_PART_CLOCK = re.compile(r"^\d+:\d\d$")  # 12:30 is minutes and seconds in one export, hours and minutes in another
BARE_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?$")
AMOUNT_AND_UNIT = re.compile(r"(\d+(?:[.,]\d+)?)\s*([a-z]+)")

# Virtual fields, and the model field each fills (a problem with the model field names their column).
DURATION_SOURCES = ("duration_minutes", "duration")
DATE_SOURCE = "due_at"


class DurationProblem(ValueError):
    pass


def parse_duration(text: str) -> int:
    """'1:05:30' -> 3930, '12 min' -> 720, '1h 30m' -> 5400, '45s' -> 45 (whole seconds)."""
    written = text.strip().casefold()
    clock = CLOCK.match(written)
    if clock:
        hours, minutes, seconds = (int(part) for part in clock.groups())
        return hours * 3600 + minutes * 60 + seconds
    if TWO_PART_CLOCK.match(written):
        raise DurationProblem(f"{text.strip()} could be minutes:seconds or hours:minutes; write h:mm:ss (0:12:30) or 12m 30s")
    if BARE_NUMBER.match(written):
        raise DurationProblem(
            "say the unit (90 min, 90 s or 1:30:00), or map the column to duration (minutes) or duration (seconds)"
        )
    parts = AMOUNT_AND_UNIT.findall(written)
    if not parts or AMOUNT_AND_UNIT.sub("", written).strip():
        raise DurationProblem("expected a duration such as 1:05:30, 12 min or 1h 30m")
    total = Decimal(0)
    for amount, unit in parts:
        if unit not in SECONDS_PER_UNIT:
            raise DurationProblem(f"unknown unit {unit!r}; use h, min or s")
        total += Decimal(amount.replace(",", ".")) * SECONDS_PER_UNIT[unit]
    return int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def minutes_to_seconds(minutes: Decimal) -> int:
    return int((minutes * 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))


class ActivityTarget(Target):
    """Activities of every kind, found again by their external id."""

    name = "activities"
    model = Activity
    match_fields = ("external_id",)

    def __init__(self) -> None:
        self.derived = Derived()

    def virtual_fields(self) -> list[TargetField]:
        return [
            TargetField(name="duration_minutes", kind=FieldKind.DECIMAL, label=_("duration (minutes)"), virtual=True),
            TargetField(name="duration", kind=FieldKind.TEXT, label=_("duration (1:05:30, 12 min)"), virtual=True),
            TargetField(name=DATE_SOURCE, kind=FieldKind.DATETIME, label=_("due date"), virtual=True),
            TargetField(name="done", kind=FieldKind.BOOLEAN, label=_("done"), virtual=True),
        ]

    def match_key(self, field_name: str, work: RowWork) -> tuple[Key, str] | None:
        if field_name == "external_id" and work.values.get("external_id"):
            return key_named(Activity, "external_id"), work.values["external_id"]
        return super().match_key(field_name, work)

    def derive(self, work: RowWork) -> None:
        values = work.values
        if values.get("duration_seconds") is None:
            for source in DURATION_SOURCES:
                if values.get(source) in (None, ""):
                    continue
                try:
                    seconds = (
                        minutes_to_seconds(values[source]) if source == "duration_minutes" else parse_duration(values[source])
                    )
                except DurationProblem as exc:
                    work.problem(ProblemKind.INVALID_VALUE, str(exc), field=source)
                    return
                except InvalidOperation:
                    work.problem(ProblemKind.INVALID_VALUE, "the duration is too large", field=source)
                    return
                self.derived.fill(work, "duration_seconds", source, seconds)
                break
        if values.get("occurred_at") is None and values.get(DATE_SOURCE) is not None:
            self.derived.fill(work, "occurred_at", DATE_SOURCE, values[DATE_SOURCE])

    def prepare(self, work: RowWork, ctx: StepContext) -> None:
        activity = work.instance
        assert isinstance(activity, Activity)
        if is_left_alone(work, ctx.on_duplicate):
            return
        if is_new(work) and work.values.get("occurred_at") is None:
            field = "occurred_at" if "occurred_at" in ctx.mapped or DATE_SOURCE not in ctx.mapped else DATE_SOURCE
            work.problem(
                ProblemKind.REQUIRED_BLANK,
                "an activity needs its date (when it happened, or when a task is due)",
                field=field,
                value="",
            )
        self._links(work, activity)
        self._done(work, activity)

    def _links(self, work: RowWork, activity: Activity) -> None:
        """An activity about a deal is about its contact and company too (as logging one on the deal's page)."""
        deal, contact = work.values.get("deal"), work.values.get("contact")
        if isinstance(deal, Deal):
            if activity.contact_id is None and deal.contact_id is not None:
                activity.contact_id = deal.contact_id
            if activity.company_id is None and deal.company_id is not None:
                activity.company_id = deal.company_id
        if isinstance(contact, Contact) and activity.company_id is None and contact.company_id is not None:
            activity.company_id = contact.company_id

    def _done(self, work: RowWork, activity: Activity) -> None:
        """A task's done column: a done task with no completion time was completed when it was due."""
        done = work.values.get("done")
        if done is None or activity.kind != ActivityKind.TASK:
            return  # other kinds have no done state: a call that was made is simply logged
        if done and activity.completed_at is None:
            activity.completed_at = activity.occurred_at
            due = timezone.localtime(activity.occurred_at)
            work.problem(
                ProblemKind.DEFAULT_USED,
                f"done, with no completion time: recorded as completed when it was due ({due:%Y-%m-%d %H:%M})",
                field="done",
            )
        elif not done:
            if work.values.get("completed_at") is not None:
                work.problem(ProblemKind.INVALID_RECORD, "a task that is not done has no completion time", field="done")
            else:
                activity.completed_at = None  # reopened

    def display(self, record: models.Model) -> str:
        return str(record)
