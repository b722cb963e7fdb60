"""Reads of the pipeline's history (crm.DealState): the deals as they stood at a moment.

A deal "as of" a moment is the state in force just before it: begun before the moment and not ended until it
(`valid_from < moment <= valid_to`, or still current). Taken at the end of a day (`core.filtersets.open_moment`),
that is the deal as the day left it; a deal is then open exactly when the snapshot KPIs count it (created
before the moment, not closed by it), except a deal closed and later reopened, which only the history knows.

Reads are restricted by the owner a state had (`DealState.owner_path`): a rep reads the pipeline that was theirs.
Values are in the company currency (a state's amount times its rate); an amount not known then counts as 0.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from quota.accounts.models import Team
from quota.core.money import MONEY_OUTPUT
from quota.crm.choices import DealStatus
from quota.crm.models import DealState, Stage

CENT = Decimal("0.01")

# A state's value in the company currency; an amount not known then is 0.
STATE_VALUE = ExpressionWrapper(Coalesce(F("amount"), Value(Decimal("0"))) * F("exchange_rate"), output_field=MONEY_OUTPUT)
STATE_WEIGHTED = ExpressionWrapper(STATE_VALUE * F("stage__probability") / Value(Decimal("100")), output_field=MONEY_OUTPUT)

# What a snapshot can be grouped by, and the state's field that says the group.
GROUPINGS = {"none": None, "stage": "stage", "person": "owner", "team": "owner__team"}


def in_force_at(moment: dt.datetime, *, prefix: str = "") -> Q:
    """States in force just before `moment` (for DealState querysets; `prefix` reaches them through a relation)."""
    return Q(**{f"{prefix}valid_from__lt": moment}) & (
        Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gte": moment})
    )


def states_at(moment: dt.datetime, *, user: Any) -> QuerySet[DealState]:
    """Each deal's state at `moment`, as `user` may read it (one per deal that existed then)."""
    return DealState.objects.visible_to(user).filter(in_force_at(moment))


def open_states_at(
    moment: dt.datetime, *, user: Any, close_from: dt.date | None = None, close_to: dt.date | None = None
) -> QuerySet[DealState]:
    """The open deals as they stood at `moment`, optionally only those then expected to close from..to (inclusive)."""
    states = states_at(moment, user=user).filter(status=DealStatus.OPEN)
    if close_from is not None:
        states = states.filter(expected_close_date__gte=close_from)
    if close_to is not None:
        states = states.filter(expected_close_date__lte=close_to)
    return states


def open_then(moment: dt.datetime) -> Q:
    """Deals (a `Deal` queryset's condition) that were open at `moment`, by their history."""
    return Q(Exists(DealState.objects.filter(in_force_at(moment), deal=OuterRef("pk"), status=DealStatus.OPEN)))


def in_stage_then(moment: dt.datetime, stage: Any) -> Q:
    """Deals (a `Deal` queryset's condition) that were in `stage` at `moment`, by their history."""
    return Q(Exists(DealState.objects.filter(in_force_at(moment), deal=OuterRef("pk"), stage=stage)))


@dataclass(frozen=True)
class PipelineRow:
    group: int | None  # the stage's, person's or team's id; None: unassigned (or everything, by "none")
    label: str
    deals: int
    value: Decimal  # company currency, to the cent
    weighted: Decimal  # value times the stage's win probability (today's probability of the stage it was in)


@dataclass(frozen=True)
class PipelineSnapshot:
    moment: dt.datetime
    by: str
    close_from: dt.date | None
    close_to: dt.date | None
    rows: list[PipelineRow]

    @property
    def deals(self) -> int:
        return sum(row.deals for row in self.rows)

    @property
    def value(self) -> Decimal:
        return sum((row.value for row in self.rows), Decimal("0"))

    @property
    def weighted(self) -> Decimal:
        return sum((row.weighted for row in self.rows), Decimal("0"))


def pipeline_as_of(
    moment: dt.datetime,
    *,
    user: Any,
    by: str = "stage",
    close_from: dt.date | None = None,
    close_to: dt.date | None = None,
) -> PipelineSnapshot:
    """The open pipeline as it stood at `moment`, per stage, person or team it was in then (`by`), in one query.

    `close_from`/`close_to` keep the deals then expected to close in that window (a quarter's pipeline).
    """
    if by not in GROUPINGS:
        raise ValueError(f"cannot group the pipeline by {by!r}; choose one of: {', '.join(GROUPINGS)}")
    field = GROUPINGS[by]
    states = open_states_at(moment, user=user, close_from=close_from, close_to=close_to).order_by()
    totals = {"deals": Count("pk"), "value": Sum(STATE_VALUE), "weighted": Sum(STATE_WEIGHTED)}
    rows: list[dict[str, Any]] = (
        [{"group": None, **states.aggregate(**totals)}]
        if field is None
        else [dict(row) for row in states.values(group=F(field)).annotate(**totals)]
    )
    labels = group_labels(by, [row["group"] for row in rows])
    result = [
        PipelineRow(
            group=row["group"],
            label=labels.get(row["group"], ""),
            deals=row["deals"],
            value=_cents(row["value"]),
            weighted=_cents(row["weighted"]),
        )
        for row in rows
        if row["deals"]
    ]
    result.sort(key=lambda row: (-row.value, row.label))
    return PipelineSnapshot(moment, by, close_from, close_to, result)


def _cents(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


def group_labels(by: str, ids: list[int | None]) -> dict[int | None, str]:
    """Names of the groups (one query): stages with their pipeline, people by name, teams."""
    wanted = [i for i in ids if i is not None]
    labels: dict[int | None, str] = {None: {"person": _("Unassigned"), "team": _("No team")}.get(by, "")}
    if by == "stage":
        labels.update({s.pk: str(s) for s in Stage.objects.filter(pk__in=wanted).select_related("pipeline")})
    if by == "person":
        people = get_user_model()._default_manager.filter(pk__in=wanted)
        names = people.values_list("pk", "first_name", "last_name", "username")
        labels.update({pk: get_user_model().label_of(first, last, username) for pk, first, last, username in names})
    if by == "team":
        labels.update(Team.objects.filter(pk__in=wanted).values_list("pk", "name"))
    return labels
