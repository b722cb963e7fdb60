"""The pipeline's history read back: the waterfall, the pipeline as it stood, slip rate and coverage.

Random deal histories are written through the real services (create, move, edit, close, reopen, each at its
own moment); a plain-Python replay of the same operations, which never reads crm.DealState, says what the
pipeline was at any moment and how it moved, and the database's answers must equal it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quota.accounts.models import Role
from quota.core.calendar import local_midnight
from quota.crm.history_selectors import open_states_at, pipeline_as_of
from quota.crm.models import Deal
from quota.crm.services import deal_close_lost, deal_close_won, deal_create, deal_move_stage, deal_reopen, deal_update
from quota.forecasting.history import FLOWS, slip_rate, waterfall
from quota.forecasting.ranges import forecast_ranges
from quota.kpi.models import Metric, Target
from quota.testing.factories import TeamFactory, UserFactory, default_pipeline, loss_reason

pytestmark = pytest.mark.django_db

# The period whose pipeline is followed (Q2 2026), and the moments around it that histories fall on.
P_START, P_END = dt.date(2026, 4, 1), dt.date(2026, 6, 30)
ORIGIN = local_midnight(dt.date(2026, 3, 1)) + dt.timedelta(hours=9)
CLOSE_DATES = [None, dt.date(2026, 3, 20), P_START, dt.date(2026, 5, 15), P_END, dt.date(2026, 7, 1), dt.date(2026, 9, 30)]
AMOUNTS = st.decimals(min_value=0, max_value=100_000, places=2)


# ----------------------------------------------------------------------------- the plain-Python reference


@dataclass(frozen=True)
class Ref:
    """What the reference knows of a deal at one moment."""

    stage: int  # position in the pipeline
    status: str
    amount: Decimal
    close: dt.date | None
    owner: int  # index into the people

    def in_slice(self) -> bool:
        return self.status == "open" and self.close is not None and P_START <= self.close <= P_END

    def cents(self) -> int:
        return int((self.amount * 100).to_integral_value())


Op = tuple[str, Any]  # ("move", position) ("amount", x) ("close", i) ("owner", i) ("won", x|None) ("lost", None) ("reopen", None)

ops = st.one_of(
    st.tuples(st.just("move"), st.integers(0, 3)),  # the default pipeline's first four stages
    st.tuples(st.just("amount"), AMOUNTS),
    st.tuples(st.just("close"), st.integers(0, len(CLOSE_DATES) - 1)),
    st.tuples(st.just("owner"), st.integers(0, 3)),
    st.tuples(st.just("won"), st.none() | AMOUNTS),
    st.tuples(st.just("lost"), st.none()),
    st.tuples(st.just("reopen"), st.none()),
)
deal_story = st.fixed_dictionaries(
    {
        "created": st.integers(0, 110 * 24),  # hours after ORIGIN
        "owner": st.integers(0, 3),
        "amount": AMOUNTS,
        "close": st.integers(0, len(CLOSE_DATES) - 1),
        "steps": st.lists(st.tuples(st.integers(1, 20 * 24), ops), max_size=6),  # (hours after the last, op)
    }
)
worlds = st.lists(deal_story, min_size=1, max_size=8)


def apply(ref: Ref, op: Op) -> Ref | None:
    """The state after `op`; None when the services would refuse it (then it is not run)."""
    kind, arg = op
    if kind == "move":
        return replace(ref, stage=arg) if ref.status == "open" else None
    if kind == "amount":
        return replace(ref, amount=arg)
    if kind == "close":
        return replace(ref, close=CLOSE_DATES[arg])
    if kind == "owner":
        return replace(ref, owner=arg)
    if kind in ("won", "lost"):
        if ref.status != "open":
            return None
        return replace(ref, status=kind, amount=arg if arg is not None else ref.amount)
    assert kind == "reopen"
    return replace(ref, status="open") if ref.status != "open" else None


def replay(story: dict[str, Any]) -> list[tuple[dt.datetime, Ref]]:
    """The deal's states from its operations: (from when, state), in order."""
    at = ORIGIN + dt.timedelta(hours=story["created"])
    ref = Ref(0, "open", story["amount"], CLOSE_DATES[story["close"]], story["owner"])
    states = [(at, ref)]
    for hours, op in story["steps"]:
        at += dt.timedelta(hours=hours)
        after = apply(ref, op)
        if after is not None:
            ref = after
            states.append((at, ref))
    return states


def as_of(states: list[tuple[dt.datetime, Ref]], moment: dt.datetime) -> Ref | None:
    """The state in force just before `moment`; None before the deal existed."""
    before = [ref for at, ref in states if at < moment]
    return before[-1] if before else None


def reference_waterfall(
    histories: list[list[tuple[dt.datetime, Ref]]], a: dt.datetime, b: dt.datetime, group_of: Any
) -> dict[Any, dict[str, int]]:
    """Per group: start, each flow and end in cents, by walking each deal's states from A to B."""
    out: dict[Any, dict[str, int]] = {}

    def add(group: Any, kind: str, cents: int) -> None:
        row = out.setdefault(group, dict.fromkeys(("start", *FLOWS, "end"), 0))
        row[kind] += cents

    for states in histories:
        before = as_of(states, a)
        if before is not None and before.in_slice():
            add(group_of(before), "start", before.cents())
        after = as_of(states, b)
        if after is not None and after.in_slice():
            add(group_of(after), "end", after.cents())
        previous = before
        for at, ref in states:
            if not a <= at < b:
                continue
            was_in = previous is not None and previous.in_slice()
            now_in = ref.in_slice()
            same = was_in and now_in and group_of(previous) == group_of(ref)
            if same:
                change = ref.cents() - previous.cents()  # type: ignore[union-attr]
                if change:
                    add(group_of(ref), "increased" if change > 0 else "decreased", change)
            else:
                if was_in:
                    exit_kind = ref.status if ref.status in ("won", "lost") else "moved_out"
                    add(group_of(previous), exit_kind, -previous.cents())  # type: ignore[union-attr]
                if now_in:
                    add(group_of(ref), "new" if previous is None else "moved_in", ref.cents())
            previous = ref
    return out


# ----------------------------------------------------------------------------- writing the histories


@pytest.fixture
def people():
    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    reps = [UserFactory(team=north), UserFactory(team=north), UserFactory(team=south), UserFactory(team=south)]
    director = UserFactory(role=Role.DIRECTOR, team=None)
    return reps, director


def write(story: dict[str, Any], reps: list[Any]) -> Deal:
    """The deal's story through the services, each operation at its own moment."""
    stages = list(default_pipeline().stages.order_by("position"))
    at = ORIGIN + dt.timedelta(hours=story["created"])
    deal = deal_create(
        by=None,
        title="Deal",
        owner=reps[story["owner"]],
        amount=story["amount"],
        expected_close_date=CLOSE_DATES[story["close"]],
        stage=stages[0],
        created_at=at,
    )
    ref = Ref(0, "open", story["amount"], CLOSE_DATES[story["close"]], story["owner"])
    for hours, op in story["steps"]:
        at += dt.timedelta(hours=hours)
        after = apply(ref, op)
        if after is None:
            continue
        ref = after
        kind, arg = op
        deal = Deal.objects.get(pk=deal.pk)
        if kind == "move":
            deal_move_stage(deal=deal, stage=stages[arg], by=None, at=at)
        elif kind in ("amount", "close", "owner"):
            field, value = {"amount": ("amount", arg), "close": ("expected_close_date", None), "owner": ("owner", None)}[kind]
            value = arg if kind == "amount" else CLOSE_DATES[arg] if kind == "close" else reps[arg]
            with time_machine.travel(at, tick=False):
                deal_update(deal=deal, by=None, data={field: value})
        elif kind == "won":
            deal_close_won(deal=deal, by=None, at=at, amount=arg)
        elif kind == "lost":
            deal_close_lost(deal=deal, by=None, reason=loss_reason(), at=at)
        else:
            deal_reopen(deal=deal, by=None, at=at)
    return deal


moments = st.tuples(st.integers(0, 130), st.integers(1, 130))  # A's day after ORIGIN's, and B's days after A


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(world=worlds, span=moments, by=st.sampled_from(["person", "team", "none"]))
def test_the_waterfall_adds_up_and_equals_a_replay_of_the_changes(people, world, span, by):
    reps, director = people
    a = local_midnight(ORIGIN.date() + dt.timedelta(days=span[0]))
    b = local_midnight(ORIGIN.date() + dt.timedelta(days=span[0] + span[1]))
    with transaction.atomic():
        for story in world:
            write(story, reps)
        result = waterfall(user=director, start_at=a, end_at=b, period_start=P_START, period_end=P_END, by=by)
        transaction.set_rollback(True)

    for row in [*result.rows, result.total]:
        assert row.start + sum(row.flows.values()) == row.end, row
        assert all(v >= 0 for v in (row.new, row.moved_in, row.increased)), row
        assert all(v <= 0 for v in (row.decreased, row.won, row.lost, row.moved_out)), row

    histories = [replay(story) for story in world]
    group_of = {
        "person": lambda ref: reps[ref.owner].pk,
        "team": lambda ref: reps[ref.owner].team_id,
        "none": lambda ref: None,
    }[by]
    expected = reference_waterfall(histories, a, b, group_of)
    got = {row.group: row for row in result.rows} if by != "none" else {None: result.total} if expected else {}
    for group, figures in expected.items():
        row = got.get(group)
        shown = {k: int(getattr(row, k) * 100) for k in figures} if row else dict.fromkeys(figures, 0)
        assert shown == figures, (group, shown, figures)
    assert set(got) <= set(expected)
    company = reference_waterfall(histories, a, b, lambda ref: None).get(None)
    if company:
        assert {k: int(getattr(result.total, k) * 100) for k in company} == company


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(world=worlds, day=st.integers(0, 140), hour=st.integers(0, 23))
def test_the_pipeline_as_of_a_moment_equals_a_replay_of_the_changes(people, world, day, hour):
    reps, director = people
    moment = ORIGIN + dt.timedelta(days=day, hours=hour)
    stages = list(default_pipeline().stages.order_by("position"))
    with transaction.atomic():
        deals = [write(story, reps) for story in world]
        listed = set(
            open_states_at(moment, user=director).values_list("deal_id", "stage_id", "amount", "expected_close_date", "owner_id")
        )
        by_person = pipeline_as_of(moment, user=director, by="person")
        quarter = pipeline_as_of(moment, user=director, by="none", close_from=P_START, close_to=P_END)
        transaction.set_rollback(True)

    expected = set()
    for deal, story in zip(deals, world, strict=True):
        ref = as_of(replay(story), moment)
        if ref is not None and ref.status == "open":
            expected.add((deal.pk, stages[ref.stage].pk, ref.amount, ref.close, reps[ref.owner].pk))
    assert listed == expected
    totals: dict[int, Decimal] = {}
    for _, _, amount, _, owner in expected:
        totals[owner] = totals.get(owner, Decimal("0")) + amount
    assert {row.group: row.value for row in by_person.rows} == totals
    assert quarter.value == sum((e[2] for e in expected if e[3] and P_START <= e[3] <= P_END), Decimal("0"))


# ----------------------------------------------------------------------------- slip rate and coverage, by hand


def _deal(owner: Any, amount: str, close: dt.date, *, created: dt.datetime) -> Deal:
    return deal_create(by=None, title="Deal", owner=owner, amount=Decimal(amount), expected_close_date=close, created_at=created)


def test_slip_rate_counts_the_deals_expected_in_the_period_whose_close_date_left_it_while_open(people):
    (anna, bob, *_), director = people
    before = local_midnight(dt.date(2026, 3, 15))
    slipped = _deal(anna, "1000", dt.date(2026, 5, 1), created=before)
    pulled_in = _deal(anna, "300", dt.date(2026, 6, 1), created=before)
    won = _deal(anna, "500", dt.date(2026, 6, 1), created=before)
    _deal(bob, "200", dt.date(2026, 6, 1), created=before)  # stays, still open
    later = _deal(bob, "700", dt.date(2026, 8, 1), created=before)  # not expected in Q2 at its start
    _deal(bob, "900", dt.date(2026, 5, 1), created=local_midnight(dt.date(2026, 4, 10)))  # created during Q2

    with time_machine.travel(local_midnight(dt.date(2026, 5, 20)), tick=False):
        deal_update(deal=slipped, by=None, data={"expected_close_date": dt.date(2026, 7, 15)})
        deal_update(deal=pulled_in, by=None, data={"expected_close_date": dt.date(2026, 3, 31)})
        deal_update(deal=later, by=None, data={"expected_close_date": dt.date(2026, 6, 15)})  # moved in: no slip
    deal_close_won(deal=won, by=None, at=local_midnight(dt.date(2026, 6, 2)))
    # A close date moved out after a deal was lost is no slip.
    lost = _deal(bob, "400", dt.date(2026, 6, 1), created=before)
    deal_close_lost(deal=lost, by=None, reason=loss_reason(), at=local_midnight(dt.date(2026, 4, 5)))
    with time_machine.travel(local_midnight(dt.date(2026, 4, 6)), tick=False):
        deal_update(deal=Deal.objects.get(pk=lost.pk), by=None, data={"expected_close_date": dt.date(2026, 12, 1)})

    (company,) = slip_rate(user=director, period_start=P_START, period_end=P_END)
    assert (company.deals, company.value) == (5, Decimal("2400.00"))
    assert (company.slipped_deals, company.slipped_value) == (2, Decimal("1300.00"))
    assert company.rate == pytest.approx(2 / 5) and company.value_rate == pytest.approx(1300 / 2400)

    rows = {row.group: row for row in slip_rate(user=director, period_start=P_START, period_end=P_END, by="person")}
    assert (rows[anna.pk].deals, rows[anna.pk].slipped_deals) == (3, 2)
    assert (rows[bob.pk].deals, rows[bob.pk].slipped_deals, rows[bob.pk].rate) == (2, 0, 0.0)
    assert slip_rate(user=director, period_start=dt.date(2027, 1, 1), period_end=dt.date(2027, 3, 31))[0].rate is None


def test_coverage_is_the_open_pipeline_expected_in_the_period_over_what_remains_of_the_target(people):
    (anna, bob, carl, _), director = people
    metric = Metric.objects.current().get(key="won_revenue")
    for person, value in ((anna, "10000"), (bob, "1000"), (carl, "5000")):
        Target.objects.create(metric=metric, user=person, start=P_START, end=P_END, value=Decimal(value))
    Target.objects.create(metric=metric, start=P_START, end=P_END, value=Decimal("20000"))
    created = local_midnight(dt.date(2026, 3, 15))
    won = _deal(anna, "4000", dt.date(2026, 4, 20), created=created)
    deal_close_won(deal=won, by=None, at=local_midnight(dt.date(2026, 4, 20)))
    _deal(anna, "9000", dt.date(2026, 6, 1), created=created)
    _deal(anna, "5000", dt.date(2026, 8, 1), created=created)  # expected after the period: not coverage
    won_bob = _deal(bob, "1500", dt.date(2026, 5, 1), created=created)
    deal_close_won(deal=won_bob, by=None, at=local_midnight(dt.date(2026, 5, 1)))
    _deal(bob, "800", dt.date(2026, 6, 1), created=created)

    now = local_midnight(dt.date(2026, 5, 10))
    goals = {anna.pk: 10000.0, bob.pk: 1000.0, carl.pk: 5000.0}
    with time_machine.travel(now, tick=False):
        people_rows = forecast_ranges(user=director, start=P_START, end=P_END, by="person", targets=goals, slip=0.0)
        (company,) = forecast_ranges(user=director, start=P_START, end=P_END, targets={None: 20000.0}, slip=0.0).rows
    rows = {row.group.id if row.group else None: row for row in people_rows.rows}
    assert (rows[anna.pk].won, rows[anna.pk].pipeline) == (4000.0, 9000.0)
    assert rows[anna.pk].coverage == pytest.approx(9000 / 6000)
    assert rows[bob.pk].coverage is None  # the target is already reached: nothing remains to cover
    assert rows[carl.pk].pipeline == 0 and rows[carl.pk].coverage == 0.0
    assert company.coverage == pytest.approx(9800 / (20000 - 5500))
