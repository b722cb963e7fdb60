"""The work waiting on the last day of history: follow-up tasks due today and the service desk's queue.

History alone leaves little open at its end: cases are answered within hours and resolved in
about two days, and the planned tasks of open deals spread over the next three weeks. A
working CRM always has a queue, so the generator adds one, as data like the rest (drawn from
its own random streams, so the other tables do not change):

- each seller has a few follow-up tasks on their open deals due today (some this morning, so
  already late; the demo `rep` has at least three), set up during the days before;
- the service desk has fallen behind over the last fortnight: its first responses take longer
  than usual (more of them miss the SLA), part of those cases wait for the customer, a part or an
  installer and are not resolved yet, and some are still unanswered past their SLA (overdue).

Both are drawn before any row is written, so the cases' surveys and the tasks' rows agree with them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quota.seed.clock import Clock
from quota.seed.columns import SECONDS_PER_DAY
from quota.seed.deals import OPEN, Deals
from quota.seed.people import People
from quota.seed.randomness import stream

# Follow-ups due today per seller: one, plus this many more on average (never more than their open deals).
EXTRA_TASKS_TODAY = 1.5
DEMO_REP_TASKS_TODAY = 3  # at least: the demo login's own list is never empty
TASKS_SET_UP_DAYS = 7  # a follow-up is set up during the week before it is due

# The service desk's last fortnight.
BACKLOG_DAYS = 14
SLOWER_RESPONSES = 1.8  # first responses take this much longer than usual
WAITING_SHARE = 0.35  # not resolved yet: waiting for the customer, a part or an installer
UNANSWERED_SHARE = 0.2  # of the cases already due: no first response yet


@dataclass
class FollowUps:
    """Open tasks due today, one per entry."""

    deal: np.ndarray  # 0-based deal index
    owner: np.ndarray  # user id
    due: np.ndarray  # instant, today in working hours
    created: np.ndarray

    def __len__(self) -> int:
        return len(self.deal)


def build_follow_ups(deals: Deals, people: People, clock: Clock, seed: int) -> FollowUps:
    """A few follow-ups due today for every seller with open deals, each on a different one of their deals."""
    rng = stream(seed, "follow-ups")
    demo_rep = np.flatnonzero(people.seller_ids == people.by_username("rep").id)
    open_deals = np.flatnonzero(deals.status == OPEN)
    chosen: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    for seller in range(len(people.seller_ids)):
        mine = open_deals[deals.seller[open_deals] == seller]
        wanted = 1 + rng.poisson(EXTRA_TASKS_TODAY)
        if seller in demo_rep:
            wanted = max(wanted, DEMO_REP_TASKS_TODAY)
        chosen.append(rng.choice(mine, size=min(wanted, len(mine)), replace=False))
    deal = np.sort(np.concatenate(chosen))
    n = len(deal)
    low = np.maximum(deals.created[deal], clock.as_of - TASKS_SET_UP_DAYS * SECONDS_PER_DAY)
    due = np.maximum(clock.at(np.full(n, clock.last_day), clock.working_seconds(rng, n)), low + 600)
    created = np.minimum(clock.working_instants(rng, low, np.full(n, clock.as_of)), due)
    return FollowUps(deal=deal, owner=people.seller_ids[deals.seller[deal]], due=due, created=created)


def hold_recent_cases(
    created: np.ndarray, due: np.ndarray, first_response: np.ndarray, resolved: np.ndarray, clock: Clock, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The first response and resolution instants of the cases, with the last fortnight's queue held open.

    Instants after the end of history mean "not yet" (the caller turns them into statuses and NULLs).
    At least one case is left unanswered past its SLA whenever one of the fortnight's cases is due by now.
    """
    rng = stream(seed, "case-backlog")
    n = len(created)
    recent = created >= clock.as_of - BACKLOG_DAYS * SECONDS_PER_DAY
    delay = np.where(recent, ((first_response - created) * (SLOWER_RESPONSES - 1)).astype(np.int64), 0)
    first_response, resolved = first_response + delay, resolved + delay
    overdue_possible = recent & (due < clock.as_of)
    unanswered = overdue_possible & (rng.random(n) < UNANSWERED_SHARE)
    if overdue_possible.any() and not unanswered.any():
        unanswered[rng.choice(np.flatnonzero(overdue_possible))] = True
    waiting = recent & (rng.random(n) < WAITING_SHARE)
    later = clock.as_of + rng.integers(3600, 10 * SECONDS_PER_DAY, n)  # after the end of history: not yet
    first_response = np.where(unanswered, np.maximum(first_response, later), first_response)
    held = np.maximum(np.maximum(resolved, first_response), clock.as_of) + later - clock.as_of
    resolved = np.where(waiting | unanswered, held, resolved)
    return first_response, resolved
