"""Service cases after sales (with first-response and resolution times, some breaching the SLA),
and satisfaction answers: CSAT after resolved cases, NPS some weeks after a purchase."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from quota.seed import backlog, profiles
from quota.seed.clock import Clock
from quota.seed.columns import NULL_TIME, Batch, Choice, Const, Ints, Texts, Times, one_based
from quota.seed.deals import WON, Deals
from quota.seed.people import People
from quota.seed.randomness import stream
from quota.seed.sizes import Scale
from quota.seed.vocabulary import CASE_CHANNELS, CASE_SUBJECTS, CSAT_COMMENTS, NPS_COMMENTS
from quota.service.models import FIRST_RESPONSE_SLA_HOURS, CasePriority, CaseStatus, SurveyKind

PRIORITIES = tuple(p.value for p in CasePriority)
CASE_STATUSES = tuple(s.value for s in CaseStatus)
NEW, OPEN, PENDING, RESOLVED, CLOSED = (CASE_STATUSES.index(s) for s in ("new", "open", "pending", "resolved", "closed"))
SURVEY_KINDS = (SurveyKind.CSAT.value, SurveyKind.NPS.value)
COMMENTS = (*CSAT_COMMENTS, *NPS_COMMENTS)
CHUNK = 100_000


@dataclass
class Cases:
    deal: np.ndarray  # the purchase the case is about (0-based deal index); case id = index + 1
    created: np.ndarray
    priority: np.ndarray
    status: np.ndarray
    first_response: np.ndarray
    resolved: np.ndarray
    due: np.ndarray
    owner: np.ndarray

    def __len__(self) -> int:
        return len(self.deal)

    @property
    def breached(self) -> np.ndarray:
        answered = np.where(self.first_response == NULL_TIME, np.iinfo(np.int64).max, self.first_response)
        return answered > self.due


def build_cases(deals: Deals, people: People, scale: Scale, clock: Clock, seed: int) -> Cases:
    rng = stream(seed, "cases")
    won = np.flatnonzero(deals.status == WON)
    n = round(scale.deals * profiles.CASES_PER_DEAL) if len(won) else 0
    deal = won[rng.integers(0, len(won), n)] if n else won
    after = deals.closed[deal] + rng.exponential(90 * 86_400, len(deal)).astype(np.int64)
    created = clock.working_instants(rng, after, after + 86_400)
    keep = created < clock.as_of
    order = np.argsort(created[keep], kind="stable")
    deal, created = deal[keep][order], created[keep][order]
    n = len(deal)
    shares = np.array([profiles.CASE_PRIORITIES[p] for p in PRIORITIES])
    priority = rng.choice(len(PRIORITIES), size=n, p=shares)
    sla = np.array([FIRST_RESPONSE_SLA_HOURS[p] for p in PRIORITIES])[priority] * 3600
    first_response = created + (
        sla * rng.lognormal(np.log(profiles.FIRST_RESPONSE_OF_SLA), profiles.FIRST_RESPONSE_SPREAD, n)
    ).astype(np.int64)
    resolved = first_response + rng.lognormal(np.log(profiles.RESOLUTION_HOURS * 3600), 1.3, n).astype(np.int64)
    due = created + sla
    first_response, resolved = backlog.hold_recent_cases(created, due, first_response, resolved, clock, seed)
    answered_yet = first_response <= clock.as_of
    resolved_yet = resolved <= clock.as_of
    waiting = np.where(rng.random(n) < 0.6, OPEN, PENDING)
    status = np.select([~answered_yet, ~resolved_yet, clock.as_of - resolved > 7 * 86_400], [NEW, waiting, CLOSED], RESOLVED)
    return Cases(
        deal=deal,
        created=created,
        priority=priority,
        status=status,
        first_response=np.where(answered_yet, first_response, NULL_TIME),
        resolved=np.where(resolved_yet, resolved, NULL_TIME),
        due=due,
        owner=people.service_ids[rng.integers(0, len(people.service_ids), n)],
    )


def case_batches(cases: Cases, deals: Deals, seed: int) -> Iterator[Batch]:
    for start in range(0, len(cases), CHUNK):
        stop = min(start + CHUNK, len(cases))
        rng = stream(seed, "case-rows", start // CHUNK)
        n = stop - start
        deal = cases.deal[start:stop]
        ids = np.arange(start + 1, stop + 1)
        channel = rng.choice(len(CASE_CHANNELS), size=n, p=np.array(profiles.CASE_CHANNEL_SHARES))
        yield Batch(
            n,
            {
                "id": Ints(ids),
                "number": Texts([f"CS-{i:07d}" for i in ids.tolist()]),
                "subject": Choice(rng.integers(0, len(CASE_SUBJECTS), n), CASE_SUBJECTS),
                "description": Const(""),
                "company_id": Ints(deals.company[deal] + 1),
                "contact_id": Ints(one_based(deals.contact[deal]), nullable=True),
                "owner_id": Ints(cases.owner[start:stop]),
                "status": Choice(cases.status[start:stop], CASE_STATUSES),
                "priority": Choice(cases.priority[start:stop], PRIORITIES),
                "channel": Choice(channel, CASE_CHANNELS),
                "created_at": Times(cases.created[start:stop]),
                "first_response_at": Times(cases.first_response[start:stop]),
                "resolved_at": Times(cases.resolved[start:stop]),
                "response_due_at": Times(cases.due[start:stop]),
            },
        )


@dataclass
class Surveys:
    kind: np.ndarray  # index into SURVEY_KINDS; answer id = index + 1, in order of answering
    score: np.ndarray
    comment: np.ndarray  # index into COMMENTS
    deal: np.ndarray  # whose contact and company answered
    case: np.ndarray  # 0-based case index or -1
    owner: np.ndarray
    answered: np.ndarray

    def __len__(self) -> int:
        return len(self.kind)


def build_surveys(cases: Cases, deals: Deals, people: People, clock: Clock, seed: int) -> Surveys:
    rng = stream(seed, "surveys")
    # CSAT: some customers rate a resolved case; slow first responses rate worse.
    rated = np.flatnonzero((cases.resolved != NULL_TIME) & (rng.random(len(cases)) < profiles.CSAT_RESPONSE))
    csat_at = cases.resolved[rated] + rng.lognormal(np.log(6 * 3600), 1.0, len(rated)).astype(np.int64)
    breached = cases.breached[rated]
    csat = (
        np.where(
            breached,
            rng.choice(5, size=len(rated), p=np.array(profiles.CSAT_SCORES_BREACHED)),
            rng.choice(5, size=len(rated), p=np.array(profiles.CSAT_SCORES)),
        )
        + 1
    )
    csat_comment = rng.integers(0, len(CSAT_COMMENTS), len(rated))
    # NPS: asked some weeks after a purchase.
    won = np.flatnonzero((deals.status == WON) & (rng.random(len(deals)) < profiles.NPS_PER_WON_DEAL))
    nps_at = clock.working_instants(rng, deals.closed[won] + 30 * 86_400, deals.closed[won] + 120 * 86_400)
    nps = rng.choice(11, size=len(won), p=np.array(profiles.NPS_SCORES) / sum(profiles.NPS_SCORES))
    nps_comment = len(CSAT_COMMENTS) + rng.integers(0, len(NPS_COMMENTS), len(won))

    answered = np.concatenate([csat_at, nps_at])
    keep = answered <= clock.as_of
    order = np.argsort(answered[keep], kind="stable")

    def pick(values: np.ndarray) -> np.ndarray:
        return values[keep][order]

    return Surveys(
        kind=pick(np.concatenate([np.zeros(len(rated), dtype=np.int64), np.ones(len(won), dtype=np.int64)])),
        score=pick(np.concatenate([csat, nps])),
        comment=pick(np.concatenate([csat_comment, nps_comment])),
        deal=pick(np.concatenate([cases.deal[rated], won])),
        case=pick(np.concatenate([rated, np.full(len(won), -1)])),
        owner=pick(np.concatenate([cases.owner[rated], people.seller_ids[deals.seller[won]]])),
        answered=pick(answered),
    )


def survey_batches(surveys: Surveys, deals: Deals) -> Iterator[Batch]:
    for start in range(0, len(surveys), CHUNK):
        stop = min(start + CHUNK, len(surveys))
        deal = surveys.deal[start:stop]
        yield Batch(
            stop - start,
            {
                "id": Ints(np.arange(start + 1, stop + 1)),
                "kind": Choice(surveys.kind[start:stop], SURVEY_KINDS),
                "score": Ints(surveys.score[start:stop]),
                "comment": Choice(surveys.comment[start:stop], COMMENTS),
                "contact_id": Ints(one_based(deals.contact[deal]), nullable=True),
                "company_id": Ints(deals.company[deal] + 1),
                "case_id": Ints(one_based(surveys.case[start:stop]), nullable=True),
                "owner_id": Ints(surveys.owner[start:stop]),
                "answered_at": Times(surveys.answered[start:stop]),
            },
        )
