"""The pipeline's movement between two moments, read from its history (crm.DealState), in the database.

A **slice** is the open pipeline expected to close in a period P (a quarter, say) that belongs to a group:
a person (the deal's owner then), a team (that owner's team) or the company. As of a moment a deal is in the
state in force just before it (crm.history_selectors), so a day's figures are as the day ended.

**Waterfall** from A to B (A < B) for each group: what was in the slice at A, what came in and went out
from A until B, and what is in it at B. Every change of a deal's state in [A, B) is one step:

    start       in the slice at A
  + new         created in the slice (its first state is in it)
  + moved in    an existing deal entered it: its close date moved into P, its owner changed to the group's,
                or it was reopened
  + increased   its value went up while it stayed in the slice (a changed amount, currency or rate)
  - decreased   its value went down while it stayed in the slice
  - won, lost   it was closed, at the value it had in the slice
  - moved out   it left the slice open: its close date left P, or its owner changed away
  = end         in the slice at B

Each deal's steps telescope from its start value to its end value, so start + flows = end holds for every
row by construction. Values are company currency, each state's amount times its rate rounded to the cent
(an amount not known then is 0), and added up as whole cents, so the sums are exact on both databases. One
query reads the waterfall of every group and of the company; the company's is not the sum of the people's:
a deal handed from one rep to another moves between people, not out of the company's pipeline.

**Slip rate** of P: of the deals open at P's start and expected to close in P (the commit P began with),
the share, by count and by value at P's start, whose expected close date was moved out of P while they were
open (at least once, from P's start until its end).

**Coverage** of P: the open pipeline expected to close in P now, over what remains of the won revenue
target (target - won so far); None when there is no target or nothing remains.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.utils import timezone

from quota.core.calendar import local_midnight
from quota.core.visibility import visible_owner_ids
from quota.crm.choices import DealStatus
from quota.crm.history_selectors import STATE_VALUE, GROUPINGS, group_labels, open_states_at, pipeline_as_of
from quota.crm.models import DealState
from quota.forecasting.targets import target_progress
from quota.kpi.selectors import visible_targets

CENT = Decimal("0.01")
FLOWS = ("new", "moved_in", "increased", "decreased", "won", "lost", "moved_out")
BY = ("person", "team", "none")
UNASSIGNED = -1  # the group of a deal without an owner (or whose owner has no team), in SQL


@dataclass(frozen=True)
class WaterfallRow:
    """One group's waterfall: flows into the slice are positive, flows out negative; `deals` counts per column."""

    group: int | None  # the person's or team's id; None: unassigned, or the company
    label: str
    start: Decimal
    new: Decimal
    moved_in: Decimal
    increased: Decimal
    decreased: Decimal
    won: Decimal
    lost: Decimal
    moved_out: Decimal
    end: Decimal
    deals: dict[str, int] = field(default_factory=dict)  # deals behind each column ("start", "won", ...)

    @property
    def flows(self) -> dict[str, Decimal]:
        return {name: getattr(self, name) for name in FLOWS}

    def as_dict(self) -> dict[str, Any]:
        values = {"start": self.start, **self.flows, "end": self.end}
        return {"group": self.group, "label": self.label, **{k: str(v) for k, v in values.items()}, "deals": self.deals}


@dataclass(frozen=True)
class Waterfall:
    start_at: dt.datetime  # A
    end_at: dt.datetime  # B
    period_start: dt.date  # P, both days included
    period_end: dt.date
    by: str
    rows: list[WaterfallRow]  # one per group that had anything in the slice
    total: WaterfallRow  # the company (everything the user sees)

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.start_at.isoformat(),
            "to": self.end_at.isoformat(),
            "period": [self.period_start.isoformat(), self.period_end.isoformat()],
            "by": self.by,
            "rows": [row.as_dict() for row in self.rows],
            "total": self.total.as_dict(),
        }


def waterfall(
    *,
    user: Any,
    start_at: dt.datetime,
    end_at: dt.datetime,
    period_start: dt.date,
    period_end: dt.date,
    by: str = "person",
    using: str = DEFAULT_DB_ALIAS,
) -> Waterfall:
    """The waterfall of the pipeline expected to close from `period_start` to `period_end`, from A to B, per group.

    `user` None reads every deal (system work); otherwise what `user` may read, by each state's owner then.
    """
    if by not in BY:
        raise ValueError(f"cannot group a waterfall by {by!r}; choose one of: {', '.join(BY)}")
    if not start_at < end_at:
        raise ValueError("a waterfall runs forward: its start must be before its end")
    if period_end < period_start:
        raise ValueError("the period ends before it starts")
    levels = [by] if by == "none" else [by, "none"]
    figures: dict[tuple[str, int], dict[str, tuple[int, int]]] = {}
    # None reads everything (system work: the command line); a signed-out or inactive user reads nothing.
    owners = None if user is None else visible_owner_ids(user) if _reads(user) else []
    if owners is None or owners:
        sql, params = _waterfall_sql(levels, owners, start_at, end_at, period_start, period_end, using)
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            for level, group, kind, cents, deals in cursor.fetchall():
                figures.setdefault((level, group), {})[kind] = (int(cents), int(deals))
    groups = [g for (level, g) in figures if level == by] if by != "none" else []
    labels = group_labels(by, [None if g == UNASSIGNED else g for g in groups])
    rows = [_row(figures[(by, g)], None if g == UNASSIGNED else g, labels) for g in groups]
    rows.sort(key=lambda row: (row.group is None, row.label.casefold()))
    total = _row(figures.get(("none", 0), {}), None, {None: ""})
    return Waterfall(start_at, end_at, period_start, period_end, by, rows, total)


def _reads(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def _row(figures: dict[str, tuple[int, int]], group: int | None, labels: dict[int | None, str]) -> WaterfallRow:
    def money(kind: str) -> Decimal:
        return (Decimal(figures.get(kind, (0, 0))[0]) / 100).quantize(CENT)

    deals = {kind: count for kind, (_, count) in figures.items()}
    return WaterfallRow(
        group=group,
        label=labels.get(group, ""),
        start=money("start"),
        **{name: money(name) for name in FLOWS},
        end=money("end"),
        deals={kind: deals.get(kind, 0) for kind in ("start", *FLOWS, "end")},
    )


def _waterfall_sql(
    levels: list[str],
    owners: list[int] | None,
    start_at: dt.datetime,
    end_at: dt.datetime,
    period_start: dt.date,
    period_end: dt.date,
    using: str,
) -> tuple[str, list[Any]]:
    """The one statement (see the module's docstring): each deal's states from A to B, with the one before each
    (LAG; -1 for a deal's first state, which is its creation), turned into the steps of every level's slices and summed per level, group and kind, in whole cents.

    Only deals in some slice from A to B are read (through the partial index of open states by close date).
    """
    ops = connections[using].ops
    a, b = ops.adapt_datetimefield_value(start_at), ops.adapt_datetimefield_value(end_at)
    p0, p1 = ops.adapt_datefield_value(period_start), ops.adapt_datefield_value(period_end)
    params: list[Any] = []
    visible = "TRUE"
    if owners is not None:
        visible = f"(s.owner_id IS NULL OR s.owner_id IN ({', '.join(['%s'] * len(owners))}))"
    group_of = {"person": "s.owner_id", "team": "u.team_id", "none": "0"}
    users = get_user_model()._meta.db_table
    join = f"LEFT JOIN {users} u ON u.id = s.owner_id" if "team" in levels else ""
    columns = ", ".join(f"COALESCE({group_of[level]}, {UNASSIGNED}) AS g_{level}" for level in levels)
    lags = ", ".join(f"LAG(g_{level}) OVER w AS was_g_{level}" for level in levels)

    sql = f"""
    WITH touched AS (
        SELECT DISTINCT deal_id FROM crm_dealstate
        WHERE status = 'open' AND expected_close_date BETWEEN %s AND %s AND valid_from < %s
          AND (valid_to IS NULL OR valid_to >= %s)
    ), alive AS (
        SELECT s.deal_id, s.valid_from, s.valid_to, s.status,
               CASE WHEN s.status = 'open' AND s.expected_close_date BETWEEN %s AND %s AND {visible}
                    THEN 1 ELSE 0 END AS inside,
               CAST(ROUND(COALESCE(s.amount, 0) * s.exchange_rate * 100) AS BIGINT) AS cents,
               {columns}
        FROM crm_dealstate s {join}
        WHERE s.deal_id IN (SELECT deal_id FROM touched) AND s.valid_from < %s AND (s.valid_to IS NULL OR s.valid_to >= %s)
    ), steps AS (
        SELECT alive.*, LAG(inside, 1, -1) OVER w AS was_inside, LAG(cents) OVER w AS was_cents, {lags}
        FROM alive WINDOW w AS (PARTITION BY deal_id ORDER BY valid_from)
    )
    """
    params += [p0, p1, b, a, p0, p1, *(owners or []), b, a]
    arms = []
    for level in levels:
        g, was_g = f"g_{level}", f"was_g_{level}"
        stays = f"(inside = 1 AND was_inside = 1 AND {g} = {was_g})"
        arms += [
            f"SELECT '{level}' AS level, deal_id, {g} AS grp, 'start' AS kind, cents FROM steps WHERE valid_from < %s AND inside = 1",
            f"SELECT '{level}', deal_id, {g}, 'end', cents FROM steps WHERE (valid_to IS NULL OR valid_to >= %s) AND inside = 1",
            f"""SELECT '{level}', deal_id, {was_g},
                       CASE status WHEN 'won' THEN 'won' WHEN 'lost' THEN 'lost' ELSE 'moved_out' END, -was_cents
                FROM steps WHERE valid_from >= %s AND was_inside = 1 AND NOT {stays}""",
            f"""SELECT '{level}', deal_id, {g}, CASE WHEN was_inside = -1 THEN 'new' ELSE 'moved_in' END, cents
                FROM steps WHERE valid_from >= %s AND inside = 1 AND NOT {stays}""",
            f"""SELECT '{level}', deal_id, {g}, CASE WHEN cents > was_cents THEN 'increased' ELSE 'decreased' END,
                       cents - was_cents
                FROM steps WHERE valid_from >= %s AND {stays} AND cents <> was_cents""",
        ]
        params += [a, b, a, a, a]
    sql += f"""
    SELECT level, grp, kind, SUM(cents), COUNT(DISTINCT deal_id)
    FROM ({" UNION ALL ".join(arms)}) flows
    GROUP BY level, grp, kind
    """
    return sql, params


# ----------------------------------------------------------------------------- slip rate


@dataclass(frozen=True)
class SlipRow:
    group: int | None
    label: str
    deals: int  # open at P's start, expected in P
    value: Decimal  # their value then
    slipped_deals: int  # of those, whose expected close date left P while open
    slipped_value: Decimal

    @property
    def rate(self) -> float | None:
        """The share of the deals that slipped; None without any."""
        return self.slipped_deals / self.deals if self.deals else None

    @property
    def value_rate(self) -> float | None:
        """The share of the value that slipped; None without any value."""
        return float(self.slipped_value / self.value) if self.value else None


def slip_rate(*, user: Any, period_start: dt.date, period_end: dt.date, by: str = "none") -> list[SlipRow]:
    """The slip rate of P (see the module's docstring) per group of the owner at P's start, in one grouped query."""
    if by not in BY:
        raise ValueError(f"cannot group the slip rate by {by!r}; choose one of: {', '.join(BY)}")
    began, ended = local_midnight(period_start), local_midnight(period_end + dt.timedelta(days=1))
    in_period = Q(expected_close_date__gte=period_start, expected_close_date__lte=period_end)
    left = DealState.objects.filter(
        ~in_period | Q(expected_close_date__isnull=True),
        deal=OuterRef("deal"),
        status=DealStatus.OPEN,
        valid_from__gte=began,
        valid_from__lt=ended,
    ).filter(
        Exists(DealState.objects.filter(in_period, deal=OuterRef("deal"), valid_to=OuterRef("valid_from"), status=DealStatus.OPEN))
    )
    slipped = Exists(left)
    commit = open_states_at(began, user=user, close_from=period_start, close_to=period_end).order_by()
    totals = dict(
        deals=Count("pk"),
        value=Sum(STATE_VALUE),
        slipped_deals=Count("pk", filter=Q(slipped)),
        slipped_value=Sum(STATE_VALUE, filter=Q(slipped)),
    )
    field_name = GROUPINGS[by]
    if field_name is None:
        rows = [{"group": None, **commit.aggregate(**totals)}]
    else:
        rows = list(commit.values(group=F(field_name)).annotate(**totals))
    labels = group_labels(by, [row["group"] for row in rows])
    return [
        SlipRow(
            group=row["group"],
            label=labels.get(row["group"], ""),
            deals=row["deals"],
            value=Decimal(row["value"] or 0).quantize(CENT),
            slipped_deals=row["slipped_deals"],
            slipped_value=Decimal(row["slipped_value"] or 0).quantize(CENT),
        )
        for row in rows
    ]


# ----------------------------------------------------------------------------- coverage

WON_REVENUE = "won_revenue"
TARGET_SCOPE = {"person": "person", "team": "team", "none": "company"}


@dataclass(frozen=True)
class CoverageRow:
    group: int | None  # the person's or team's id; None for the company
    label: str
    target: Decimal
    won: Decimal  # so far
    pipeline: Decimal  # open now, expected to close in the period
    coverage: float | None  # pipeline / (target - won); None when nothing remains

    @property
    def remaining(self) -> Decimal:
        return self.target - self.won


def pipeline_coverage(
    *, user: Any, period_start: dt.date, period_end: dt.date, by: str = "person", now: dt.datetime | None = None
) -> list[CoverageRow]:
    """Coverage of the won revenue targets set for exactly this period, one row per target `user` may see."""
    if by not in BY:
        raise ValueError(f"cannot group coverage by {by!r}; choose one of: {', '.join(BY)}")
    now = now or timezone.now()
    scope = TARGET_SCOPE[by]
    targets = [
        t
        for t in visible_targets(user).filter(metric__key=WON_REVENUE, start=period_start, end=period_end)
        if t.scope == scope
    ]
    if not targets:
        return []
    pipeline = pipeline_as_of(now, user=user, by=by, close_from=period_start, close_to=period_end)
    open_value = {row.group: row.value for row in pipeline.rows}
    rows = []
    for state in target_progress(targets, user=user, now=now):
        if state.value is None or state.progress is None:
            continue
        target = state.target
        group = target.user_id if scope == "person" else target.team_id if scope == "team" else None
        goal = Decimal(state.value).quantize(CENT)
        won = Decimal(str(state.progress.actual or 0)).quantize(CENT)
        value = open_value.get(group, Decimal("0")) if scope != "company" else pipeline.value
        remaining = goal - won
        coverage = float(value / remaining) if remaining > 0 else None
        rows.append(CoverageRow(group, target.scope_label, goal, won, value, coverage))
    rows.sort(key=lambda row: row.label.casefold())
    return rows
