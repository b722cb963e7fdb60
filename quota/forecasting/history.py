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

(Coverage, the open pipeline expected in P over what remains of a target, is on each row of the forecast's
ranges: forecasting.ranges.RangeRow.coverage.)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum

from quota.core.calendar import local_midnight
from quota.core.visibility import visible_owner_ids
from quota.crm.choices import DealStatus
from quota.crm.history_selectors import GROUPINGS, STATE_VALUE, group_labels, open_states_at
from quota.crm.models import DealState

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
    # Deals behind each column ("start", "won", ...): in a flow, the steps (a deal that moved in twice counts twice).
    deals: dict[str, int] = field(default_factory=dict)

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
    # None reads everything (system work: the command line); a signed-out or inactive user reads nothing.
    owners = None if user is None else visible_owner_ids(user) if _reads(user) else []
    rows: list[tuple[Any, ...]] = []
    if owners is None or owners:
        sql, params = _waterfall_sql(by, owners, start_at, end_at, period_start, period_end, using)
        with transaction.atomic(using=using), connections[using].cursor() as cursor:
            if connections[using].vendor == "postgresql":
                # Compiling this one statement took longer than running it (JIT: about a second at `large`).
                cursor.execute("SET LOCAL jit = off")
                # Its sort for the window (some 25 MB at `large`) and its grouping by hash stay in memory.
                cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute(sql, params)
            rows = cursor.fetchall()
    groups, company = _tally(rows)
    labels = group_labels(by, [None if g == UNASSIGNED else g for g in groups]) if by != "none" else {}
    shown = [] if by == "none" else [_row(figures, None if g == UNASSIGNED else g, labels) for g, figures in groups.items()]
    shown.sort(key=lambda row: (row.group is None, row.label.casefold(), row.group or 0))  # namesakes by id
    return Waterfall(start_at, end_at, period_start, period_end, by, shown, _row(company, None, {None: ""}))


KINDS = ("start", *FLOWS, "end")


def _reads(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def _row(figures: dict[str, list[int]], group: int | None, labels: dict[int | None, str]) -> WaterfallRow:
    def money(kind: str) -> Decimal:
        return (Decimal(figures.get(kind, (0, 0))[0]) / 100).quantize(CENT)

    return WaterfallRow(
        group=group,
        label=labels.get(group, ""),
        start=money("start"),
        **{name: money(name) for name in FLOWS},
        end=money("end"),
        deals={kind: figures.get(kind, (0, 0))[1] for kind in KINDS},
    )


def _waterfall_sql(
    by: str,
    owners: list[int] | None,
    start_at: dt.datetime,
    end_at: dt.datetime,
    period_start: dt.date,
    period_end: dt.date,
    using: str,
) -> tuple[str, list[Any]]:
    """One grouped statement over the states in a slice at some moment from A to B.

    Every step belongs to the group of the in-slice state it touches: a deal enters a slice with the state it
    enters in, leaves it with the state it leaves, and a change of value within a slice is that of the state
    after the change. So the in-slice states (read through the partial index of open states by close date),
    each told how it began and ended, grouped by their group and that kind, give every column (`_tally`).
    """
    ops = connections[using].ops
    a, b = ops.adapt_datetimefield_value(start_at), ops.adapt_datetimefield_value(end_at)
    p0, p1 = ops.adapt_datefield_value(period_start), ops.adapt_datefield_value(period_end)
    in_slice_params = [p0, p1, *(owners or [])]

    def inside(state: str) -> str:
        """Whether a state is in a slice: open, expected in P and visible (its parameters: `in_slice_params`)."""
        visible = ""
        if owners is not None:
            visible = f" AND ({state}.owner_id IS NULL OR {state}.owner_id IN ({', '.join(['%s'] * len(owners))}))"
        return f"({state}.status = 'open' AND {state}.expected_close_date BETWEEN %s AND %s{visible})"

    def cents(state: str) -> str:
        return f"CAST(ROUND(COALESCE({state}.amount, 0) * {state}.exchange_rate * 100) AS BIGINT)"

    users = get_user_model()._meta.db_table
    group = {"person": "{x}.owner_id", "team": "u{x}.team_id", "none": "0"}[by]

    def group_of(state: str) -> str:
        return f"COALESCE({group.format(x=state)}, {UNASSIGNED})"

    def team_of(state: str) -> str:
        return f" LEFT JOIN {users} u{state} ON u{state}.id = {state}.owner_id" if by == "team" else ""

    # The states in a slice from A to B, each with the in-slice states before and after it (LAG, LEAD): where
    # one ends as the other begins, the step is between two states of the slice and needs no lookup. A step into
    # the slice from no state in it asks whether the deal had any state before (one index lookup, for those rows
    # only); a step out of it to no state in it looks for a close beginning then among the period's closes (two
    # hashed sets, read once through the partial index of closes), else the deal went on open, out of the slice
    # (a deal's states tile its life: the next one begins where this one ends).
    # The steps are counted and summed per group and kind of step in and out, the kinds as small numbers (CAME,
    # WENT) so the grouping compares integers, not text.
    came, went = {kind: code for code, kind in enumerate(CAME)}, {kind: code for code, kind in enumerate(WENT)}
    sql = f"""
    WITH slice AS (
        SELECT deal_id, valid_from, valid_to, grp, cents,
               LAG(valid_to) OVER w AS lag_to, LAG(grp) OVER w AS lag_grp, LAG(cents) OVER w AS lag_cents,
               LEAD(valid_from) OVER w AS lead_from, LEAD(grp) OVER w AS lead_grp
        FROM (
            SELECT s.deal_id, s.valid_from, s.valid_to, {group_of("s")} AS grp, {cents("s")} AS cents
            FROM crm_dealstate s{team_of("s")}
            WHERE {inside("s")} AND s.valid_from < %s AND (s.valid_to IS NULL OR s.valid_to >= %s)
        ) states
        WINDOW w AS (PARTITION BY deal_id ORDER BY valid_from)
    ), steps AS (
        SELECT grp, cents,
               CASE WHEN valid_from < %s THEN 1 ELSE 0 END AS at_start,
               CASE WHEN valid_to IS NULL OR valid_to >= %s THEN 1 ELSE 0 END AS at_end,
               CASE WHEN valid_from < %s THEN {came[""]}
                    WHEN lag_to = valid_from THEN CASE WHEN lag_grp = grp THEN {came["same"]} ELSE {came["other"]} END
                    WHEN EXISTS (
                        SELECT 1 FROM crm_dealstate p WHERE p.deal_id = slice.deal_id AND p.valid_from < slice.valid_from
                    ) THEN {came["out"]}
                    ELSE {came["new"]} END AS came,
               CASE WHEN lag_to = valid_from THEN cents - lag_cents ELSE 0 END AS change,
               CASE WHEN valid_to IS NULL OR valid_to >= %s THEN {went[""]}
                    WHEN lead_from = valid_to THEN CASE WHEN lead_grp = grp THEN {went["same"]} ELSE {went["other"]} END
                    WHEN (deal_id, valid_to) IN (
                        SELECT c.deal_id, c.valid_from FROM crm_dealstate c
                        WHERE c.status = 'won' AND c.valid_from >= %s AND c.valid_from < %s
                    ) THEN {went["won"]}
                    WHEN (deal_id, valid_to) IN (
                        SELECT c.deal_id, c.valid_from FROM crm_dealstate c
                        WHERE c.status = 'lost' AND c.valid_from >= %s AND c.valid_from < %s
                    ) THEN {went["lost"]}
                    ELSE {went["out"]} END AS went
        FROM slice
    )
    SELECT grp, at_start, at_end, came, went, direction, COUNT(*), SUM(cents), SUM(change)
    FROM (
        SELECT grp, cents, change, at_start, at_end, came, went,
               CASE WHEN change > 0 THEN 1 WHEN change < 0 THEN -1 ELSE 0 END AS direction
        FROM steps
    ) kinds
    GROUP BY grp, at_start, at_end, came, went, direction
    """
    return sql, [*in_slice_params, b, a, a, b, a, b, a, b, a, b]


# How a state in a slice began (from before A, from a state of the same or another group of the slice, from a
# state out of it, or as a new deal) and ended (until after B, into a state of the slice, out of it open, or
# closed): the codes the statement counts by, their positions here.
CAME = ("", "same", "other", "out", "new")
WENT = ("", "same", "other", "out", "won", "lost")


def _tally(rows: list[tuple[Any, ...]]) -> tuple[dict[int, dict[str, list[int]]], dict[str, list[int]]]:
    """Each group's columns, and the company's, from the steps counted per kind: {kind: [cents, steps]}.

    A step into or out of the slice moves the state's whole value; a step between two states of the slice
    changes it by their difference, unless the owner changed (a move between the people's or teams' slices,
    which for the company is a change like any other). Increases and decreases are told apart by its sign.
    """
    groups: dict[int, dict[str, list[int]]] = {}
    company: dict[str, list[int]] = {kind: [0, 0] for kind in KINDS}

    def add(columns: dict[str, list[int]], kind: str, cents: int, steps: int) -> None:
        columns[kind][0] += cents
        columns[kind][1] += steps

    for group, at_start, at_end, came_code, went_code, _direction, steps, cents, change in rows:
        columns = groups.setdefault(group, {kind: [0, 0] for kind in KINDS})
        steps, cents, change = int(steps), int(cents or 0), int(change or 0)
        came, went = CAME[came_code], WENT[went_code]
        changed = "increased" if change > 0 else "decreased" if change < 0 else None
        for target, moves in ((columns, ("out", "other")), (company, ("out",))):
            if at_start:
                add(target, "start", cents, steps)
            if at_end:
                add(target, "end", cents, steps)
            if came == "new":
                add(target, "new", cents, steps)
            elif came in moves:
                add(target, "moved_in", cents, steps)
            elif came in ("same", "other") and changed:  # the company's "other" is a change like "same"
                add(target, changed, change, steps)
            if went in ("won", "lost"):
                add(target, went, -cents, steps)
            elif went in moves:
                add(target, "moved_out", -cents, steps)
    return groups, company


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
        Exists(
            DealState.objects.filter(in_period, deal=OuterRef("deal"), valid_to=OuterRef("valid_from"), status=DealStatus.OPEN)
        )
    )
    slipped = Exists(left)
    commit = open_states_at(began, user=user, close_from=period_start, close_to=period_end).order_by()
    totals = {
        "deals": Count("pk"),
        "value": Sum(STATE_VALUE),
        "slipped_deals": Count("pk", filter=Q(slipped)),
        "slipped_value": Sum(STATE_VALUE, filter=Q(slipped)),
    }
    field_name = GROUPINGS[by]
    rows: list[dict[str, Any]] = (
        [{"group": None, **commit.aggregate(**totals)}]
        if field_name is None
        else [dict(row) for row in commit.values(group=F(field_name)).annotate(**totals)]
    )
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
