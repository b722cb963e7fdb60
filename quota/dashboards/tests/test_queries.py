"""Query counts of every dashboard page: pinned, and the same for 3 reps with 10 deals as for 10 reps with 100 deals.

A page that starts looping over people, periods or records fails here. When a change adds a query
on purpose (a new section), update PINNED and say why in the commit.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from quota.accounts.models import Role
from quota.dashboards.tests.conftest import lost_deal, month_start, open_deal, this_month_moment, won_deal
from quota.kpi.models import Metric, Target, period_bounds
from quota.testing.factories import (
    CallFactory,
    CampaignRecipientFactory,
    CaseFactory,
    LeadFactory,
    MeetingFactory,
    SurveyAnswerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# (user, URL) -> queries, session and user lookups and the unread-notifications count included. The forecast's
# slip of the period before (forecasting.ranges.past_slip) is one query here; outside tests it is cached an hour.
# A dashboard or KPI page reads the KPIs' current versions and the rollups' freshness once for all its sections
# (kpi.engine.reading_once).
PINNED = {
    # The forecast card's ranges and the won revenue targets' (forecasting.ranges: the slip, the cumulants, the deals);
    # the card's won revenue is the won revenue card's.
    ("director", "/"): 34,
    ("director", "/dashboards/marketing/"): 17,  # campaign messages are rolled up: their freshness is checked
    ("director", "/dashboards/service/"): 19,
    ("manager", "/"): 34,
    ("rep", "/"): 31,  # my tasks today (two lists), the overdue deals' count, my commit; the card reads its target's ranges
    # The KPI page lists the teams whose figures the user may switch to (one query).
    ("director", "/dashboards/kpi/won_revenue/?by=person"): 13,
    ("director", "/dashboards/kpi/new_leads/?by=source"): 14,
    # One for the root team, shown as the company row. The forecast's ranges (and their slip) are read only for
    # the kinds of row with a won revenue target: here the people's (the manager's grid), not the teams'.
    ("director", "/dashboards/targets/?team=company"): 14,
    ("manager", "/dashboards/targets/"): 19,
    ("director", "/dashboards/builder/"): 4,
}


def grow(world, *, reps: int, deals: int) -> None:
    """Sellers in both teams, each with targets, and `deals` deals with leads, activities, cases and answers beside them."""
    teams = itertools.cycle([world.north, world.south])
    people = [world.rep, world.teammate, world.south_rep][:reps]
    people += [UserFactory(role=Role.REP, team=next(teams)) for _ in range(reps - len(people))]
    start, end = period_bounds("month", month_start().date())
    metrics = {m.key: m for m in Metric.objects.current().filter(key__in=["won_revenue", "calls_made"])}
    for person in people:
        for metric in metrics.values():
            Target.objects.get_or_create(metric=metric, user=person, start=start, end=end, defaults={"value": 100})
    moment = this_month_moment()
    for index in range(deals):
        owner = people[index % len(people)]
        kind = index % 4
        if kind == 0:
            won_deal(owner, f"{100 + index}.00", moment)
        elif kind == 1:
            lost_deal(owner, moment, reason="Timing" if index % 8 == 1 else "Price too high")
        else:
            open_deal(owner, f"{200 + index}.00", stage_position=1 + index % 4, expected=end)
        LeadFactory(owner=owner, created_at=moment)
        CallFactory(owner=owner, occurred_at=moment)
        if index % 5 == 0:
            MeetingFactory(owner=owner, occurred_at=moment)
            CaseFactory(owner=owner, created_at=moment, first_response_at=moment + dt.timedelta(hours=1))
            SurveyAnswerFactory(owner=owner, kind="nps", score=index % 11, answered_at=moment)
            CampaignRecipientFactory(sent_at=min(moment, timezone.now()))


def queries(client, user, url: str) -> int:
    client.force_login(user)
    client.get(url)  # warm the team membership cache, as in a running site
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


@pytest.mark.slow
def test_dashboard_queries_do_not_grow_with_people_or_records(client, world):
    grow(world, reps=3, deals=10)
    small = {(who, url): queries(client, getattr(world, who), url) for who, url in PINNED}
    grow(world, reps=10, deals=100)
    large = {(who, url): queries(client, getattr(world, who), url) for who, url in PINNED}
    assert large == small, "a dashboard page's queries grow with its data"
    assert small == PINNED
