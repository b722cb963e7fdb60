"""Calls, e-mails, meetings and tasks: most along deals (more for long and won ones, and for
diligent reps), the rest prospecting at companies without a deal. The largest table by far,
so it is drawn and written a chunk of deals at a time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from quota.activities.models import ActivityKind
from quota.seed import profiles
from quota.seed.backlog import FollowUps
from quota.seed.clock import Clock
from quota.seed.columns import NULL_TIME, Batch, Bools, Choice, Column, Const, Ints, Times, one_based
from quota.seed.customers import Companies
from quota.seed.deals import OPEN, WON, Deals
from quota.seed.people import People
from quota.seed.randomness import stream, weighted_index
from quota.seed.sizes import Scale
from quota.seed.vocabulary import ACTIVITY_SUBJECTS

KINDS = (ActivityKind.CALL.value, ActivityKind.EMAIL.value, ActivityKind.MEETING.value, ActivityKind.TASK.value)
CALL, EMAIL, MEETING, TASK = range(4)
DIRECTIONS = ("", "in", "out")
SUBJECTS = tuple(subject for kind in KINDS for subject in ACTIVITY_SUBJECTS[kind])
SUBJECT_OFFSET = np.cumsum([0] + [len(ACTIVITY_SUBJECTS[kind]) for kind in KINDS])
COLD_CALL = SUBJECTS.index("Cold call")
DEALS_PER_CHUNK = 20_000
PROSPECTING_CHUNK = 200_000


def deal_activity_counts(deals: Deals, people: People, scale: Scale, clock: Clock, seed: int) -> np.ndarray:
    """How many activities each deal gets: more the longer it runs, when it is won, and for diligent reps."""
    rng = stream(seed, "activity-counts")
    until = np.where(deals.status == OPEN, clock.as_of, deals.closed)
    active_days = (until - deals.created) / 86_400
    weight = (0.5 + active_days / 30) ** 0.7 * people.seller_activity[deals.seller] * np.where(deals.status == WON, 1.3, 1.0)
    expected = weight / weight.sum() * scale.activities * profiles.DEAL_ACTIVITY_SHARE
    return rng.poisson(expected)


def _kinds(rng: np.random.Generator, shares: dict[str, float], n: int) -> np.ndarray:
    p = np.array([shares[k] for k in KINDS])
    return rng.choice(len(KINDS), size=n, p=p / p.sum())


@dataclass
class KindDetails:
    """The kind-specific columns, following the Activity model's rules (what applies to which kind)."""

    kind: np.ndarray
    subject: np.ndarray  # index into SUBJECTS
    direction: np.ndarray  # index into DIRECTIONS
    answered: np.ndarray  # int8: 1, 0, -1 (NULL)
    duration: np.ndarray  # seconds, -1 NULL
    opened: np.ndarray
    held: np.ndarray
    completed: np.ndarray

    def columns(self) -> dict[str, Column]:
        return {
            "kind": Choice(self.kind, KINDS),
            "subject": Choice(self.subject, SUBJECTS),
            "direction": Choice(self.direction, DIRECTIONS),
            "answered": Bools(self.answered),
            "duration_seconds": Ints(self.duration, nullable=True),
            "opened": Bools(self.opened),
            "held": Bools(self.held),
            "completed_at": Times(self.completed),
        }


def _details(rng: np.random.Generator, kind: np.ndarray, occurred: np.ndarray, planned: np.ndarray, clock: Clock) -> KindDetails:
    n = len(kind)
    call, email, meeting, task = (kind == k for k in range(4))
    outbound = np.where(call, rng.random(n) < profiles.OUTBOUND_CALLS, rng.random(n) < profiles.OUTBOUND_EMAILS)
    direction = np.where(call | email, np.where(outbound, 2, 1), 0)
    answer_rate = np.where(outbound, profiles.ANSWERED["out"], profiles.ANSWERED["in"])
    answered = np.where(call, rng.random(n) < answer_rate, -1).astype(np.int8)
    held = np.where(meeting & ~planned, rng.random(n) < profiles.MEETING_HELD, -1).astype(np.int8)
    opened = np.where(email & outbound, rng.random(n) < profiles.EMAIL_OPENED, -1).astype(np.int8)
    talk = np.maximum(5, rng.lognormal(np.log(profiles.CALL_SECONDS), 0.8, n)).astype(np.int64)
    minutes = np.array(profiles.MEETING_MINUTES)[rng.integers(0, len(profiles.MEETING_MINUTES), n)] * 60
    duration = np.select([answered == 1, held == 1], [talk, minutes], -1)
    done = task & ~planned & (rng.random(n) < profiles.TASK_DONE)
    completed = np.where(
        done, np.minimum(occurred + rng.lognormal(np.log(4 * 3600), 1.0, n).astype(np.int64), clock.as_of), NULL_TIME
    )
    subject = SUBJECT_OFFSET[kind] + (rng.random(n) * (SUBJECT_OFFSET[kind + 1] - SUBJECT_OFFSET[kind])).astype(np.int64)
    return KindDetails(kind, subject, direction, answered, duration, opened, held, completed)


def _created(
    rng: np.random.Generator, kind: np.ndarray, occurred: np.ndarray, planned: np.ndarray, low: np.ndarray, clock: Clock
) -> np.ndarray:
    """Calls, e-mails and meetings are logged right after; tasks and planned meetings are set up days ahead."""
    n = len(kind)
    logged = np.minimum(occurred + rng.integers(0, 600, n), clock.as_of)
    latest = np.minimum(occurred, clock.as_of)
    ahead = clock.working_instants(rng, np.maximum(low, latest - 5 * 86_400).clip(max=latest), latest)
    return np.where((kind == TASK) | planned, ahead, logged)


def activity_batch(
    ids: np.ndarray,
    details: KindDetails,
    owner: np.ndarray,
    deal: np.ndarray,
    contact: np.ndarray,
    company: np.ndarray,
    occurred: np.ndarray,
    created: np.ndarray,
) -> Batch:
    return Batch(
        len(ids),
        {
            "id": Ints(ids),
            **details.columns(),
            "notes": Const(""),
            "owner_id": Ints(owner),
            "deal_id": Ints(deal, nullable=True),
            "contact_id": Ints(contact, nullable=True),
            "company_id": Ints(company),
            "occurred_at": Times(occurred),
            "created_at": Times(created),
            "external_id": Const(""),
        },
    )


def follow_up_batch(follow_ups: FollowUps, first_id: int, deals: Deals, seed: int) -> Batch:
    """Open tasks due today on open deals (see backlog)."""
    rng = stream(seed, "follow-up-rows")
    n = len(follow_ups)
    kind = np.full(n, TASK)
    never = np.full(n, -1, dtype=np.int8)
    subject = SUBJECT_OFFSET[TASK] + rng.integers(0, SUBJECT_OFFSET[TASK + 1] - SUBJECT_OFFSET[TASK], n)
    details = KindDetails(kind, subject, np.zeros(n, dtype=np.int64), never, np.full(n, -1), never, never, np.full(n, NULL_TIME))
    deal = follow_ups.deal
    return activity_batch(
        np.arange(first_id, first_id + n),
        details,
        follow_ups.owner,
        deal + 1,
        one_based(deals.contact[deal]),
        deals.company[deal] + 1,
        follow_ups.due,
        follow_ups.created,
    )


def deal_activity_batches(deals: Deals, counts: np.ndarray, people: People, clock: Clock, seed: int) -> Iterator[Batch]:
    next_id = 1
    for start in range(0, len(deals), DEALS_PER_CHUNK):
        stop = min(start + DEALS_PER_CHUNK, len(deals))
        rng = stream(seed, "deal-activities", start // DEALS_PER_CHUNK)
        deal = np.repeat(np.arange(start, stop), counts[start:stop])
        n = len(deal)
        kind = _kinds(rng, profiles.DEAL_ACTIVITY_KINDS, n)
        is_open = deals.status[deal] == OPEN
        low = deals.created[deal]
        high = np.where(is_open, clock.as_of, deals.closed[deal])
        # Part of an open deal's meetings and tasks lie ahead: the next steps.
        planned = is_open & ((kind == MEETING) | (kind == TASK)) & (rng.random(n) < profiles.PLANNED_SHARE)
        low_at = np.where(planned, clock.as_of, low)
        high_at = np.where(planned, clock.as_of + profiles.PLANNED_DAYS * 86_400, high)
        occurred = clock.working_instants(rng, low_at, high_at)
        details = _details(rng, kind, occurred, planned, clock)
        created = _created(rng, kind, occurred, planned, low, clock)
        owner = people.seller_ids[deals.seller[deal]]
        yield activity_batch(
            np.arange(next_id, next_id + n),
            details,
            owner,
            deal + 1,
            one_based(deals.contact[deal]),
            deals.company[deal] + 1,
            occurred,
            created,
        )
        next_id += n


def prospecting_batches(
    total: int, first_id: int, people: People, companies: Companies, clock: Clock, seed: int
) -> Iterator[Batch]:
    """Calls, e-mails and tasks with companies, outside any deal: mostly the account manager's."""
    for start in range(0, total, PROSPECTING_CHUNK):
        n = min(PROSPECTING_CHUNK, total - start)
        rng = stream(seed, "prospecting", start // PROSPECTING_CHUNK)
        occurred = clock.seasonal_instants(rng, n)
        company = companies.pick(rng, occurred)
        kind = _kinds(rng, profiles.PROSPECTING_KINDS, n)
        planned = np.zeros(n, dtype=bool)
        details = _details(rng, kind, occurred, planned, clock)
        details.subject = np.where(kind == CALL, COLD_CALL, details.subject)
        colleague = people.seller_ids[weighted_index(rng, people.seller_share * people.seller_activity, n)]
        owner = np.where(rng.random(n) < 0.8, companies.owner[company], colleague)
        created = _created(rng, kind, occurred, planned, companies.created[company], clock)
        ids = np.arange(first_id + start, first_id + start + n)
        yield activity_batch(
            ids, details, owner, np.full(n, -1), companies.pick_contact(rng, company) + 1, company + 1, occurred, created
        )
