"""Reads of deals that several pages share, defined once here.

Pipeline hygiene: which open deals are overdue or stale (the board, the deal list and its filter, the seller's
dashboard and the notifications):
- **Overdue**: open, and its expected close date is before today (the company's day).
- **Stale**: open, and neither a stage change nor a logged activity (a call, e-mail, meeting or a done
  task; a task still to do is a plan, not work) for `CRM_STALE_DEAL_DAYS` days (30 by default).
Both are conditions (`Q`), so a list filters by them and a board annotates them in the query it already
makes: no extra query per card.

The pipeline board: the open deals of a pipeline by stage, in a fixed number of queries.

The pipeline as it stood at a moment: a past period's pipeline is the deals open at its end (as the snapshot
KPIs count them), each in the stage it was in then, which its history says (crm.history_selectors).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from quota.activities.models import Activity, ActivityKind
from quota.core import dataversions
from quota.core.filtersets import open_condition
from quota.core.money import company_currency, in_company_currency
from quota.core.visibility import changeable_owner_ids, visible_owner_ids
from quota.crm.choices import DealStatus
from quota.crm.history_selectors import in_force_at
from quota.crm.models import Deal, DealState, Pipeline, Stage

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
    """A deal's stage at `moment` (for `Deal` querysets), by its history (crm.DealState; its stage now if it has none)."""
    then = DealState.objects.filter(in_force_at(moment), deal=OuterRef("pk")).order_by("-valid_from")
    return Coalesce(Subquery(then.values("stage")[:1]), "stage", output_field=IntegerField())


def open_at(moment: dt.datetime) -> Q:
    """Deals open at `moment`: created before it and not closed by then (as the snapshot KPIs count them)."""
    return open_condition(moment, begins="created_at", ends="closed_at")


# ----------------------------------------------------------------------------- the pipeline board

# What a card shows, and no more: a board loads hundreds, and a company's phone numbers, say, are parsed as they load.
CARD_FIELDS = (
    *("title", "stage", "amount", "currency", "exchange_rate", "expected_close_date", "company", "owner"),
    *("company__name", "owner__first_name", "owner__last_name", "owner__username"),
)
CARDS_PER_COLUMN = 50  # the most valuable open deals per stage; the rest are counted, not drawn

# A deal's value in the company currency (the rate is fixed on its own date; see core.money).
DEAL_VALUE = in_company_currency("amount")


@dataclass
class BoardColumn:
    stage: Stage
    count: int
    value: Decimal
    cards: list[Deal]

    @property
    def more(self) -> int:
        return self.count - len(self.cards)

    @property
    def weighted_value(self) -> Decimal:
        return self.value * self.stage.probability / 100


@dataclass
class Board:
    pipeline: Pipeline
    pipelines: list[Pipeline]
    owner: Any
    owners: list[Any]
    columns: list[BoardColumn]
    editable: set[int]  # ids of the cards the user may drag
    currency: str
    stale_days: int  # a card is stale after this many days without a move or an activity (crm.selectors)


def pipeline_board(user: Any, *, pipeline_id: Any = None, owner_id: Any = None) -> Board | None:
    """The open deals of one pipeline by stage, in a fixed number of queries however many deals there are.

    Totals (count and value per stage) are one grouped query. The cards are the CARDS_PER_COLUMN
    most valuable deals of each stage: one `ORDER BY value DESC LIMIT n` per stage, joined by
    UNION ALL into one statement (a top-N per stage, not a sort of every open deal; with an index
    on the value it reads n index entries per stage), then those few rows with their relations.
    """
    pipelines = list(Pipeline.objects.all())
    if not pipelines:
        return None
    pipeline = next((p for p in pipelines if str(p.pk) == str(pipeline_id)), None)
    pipeline = pipeline or next((p for p in pipelines if p.is_default), pipelines[0])
    people = get_user_model()._default_manager.filter(is_active=True).only("first_name", "last_name", "username")
    visible = visible_owner_ids(user)
    owners = list(people if visible is None else people.filter(pk__in=visible))
    owner = next((o for o in owners if str(o.pk) == str(owner_id)), None)
    stages = list(pipeline.stages.order_by("position"))

    deals = Deal.objects.visible_to(user).filter(pipeline=pipeline, status=DealStatus.OPEN)
    if owner is not None:
        deals = deals.filter(owner=owner)
    totals = {
        row["stage"]: row
        for row in deals.order_by().values("stage").annotate(count=Count("pk"), value=Sum(DEAL_VALUE, default=Decimal("0")))
    }
    cards = _most_valuable_per_stage(deals, stages)
    by_stage: dict[int, list[Deal]] = {}
    for deal in cards:
        by_stage.setdefault(deal.stage_id, []).append(deal)
    card_ids = [deal.pk for deal in cards]
    if changeable_owner_ids(user) is None:
        editable = set(card_ids)
    else:
        editable = set(Deal.objects.editable_by(user).filter(pk__in=card_ids).values_list("pk", flat=True))
    columns = [
        BoardColumn(
            stage=stage,
            count=totals.get(stage.pk, {}).get("count", 0),
            value=Decimal(totals.get(stage.pk, {}).get("value") or 0).quantize(Decimal("0.01")),
            cards=by_stage.get(stage.pk, []),
        )
        for stage in stages
    ]
    return Board(pipeline, pipelines, owner, owners, columns, editable, company_currency(), stale_after_days())


def _most_valuable_per_stage(deals: Any, stages: list[Stage]) -> list[Deal]:
    """The CARDS_PER_COLUMN most valuable of `deals` in each stage, most valuable first (two queries).

    Each UNION member is `pk IN (top n of one stage)`: SQLite allows no LIMIT directly in a
    compound statement, and on PostgreSQL the inner top-n still reads only n index entries.
    """
    if not stages:
        return []
    by_value = [DEAL_VALUE.desc(), F("pk").desc()]
    per_stage = [
        Deal.objects.filter(pk__in=deals.filter(stage=stage).order_by(*by_value).values("pk")[:CARDS_PER_COLUMN])
        .order_by()
        .values_list("pk", flat=True)
        for stage in stages
    ]
    ids = list(per_stage[0].union(*per_stage[1:], all=True))
    with dataversions.rows_of(Activity, "deal") as shown:  # the flags read these deals' own activities
        shown.are(ids)
        listed = Deal.objects.filter(pk__in=ids).select_related("company", "owner").only(*CARD_FIELDS)
        cards = list(with_hygiene_flags(listed))
    return sorted(cards, key=lambda deal: (-(deal.amount * deal.exchange_rate), -deal.pk))
