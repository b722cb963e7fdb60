"""The service board's open cases are rolled up like a saved KPI, and read from rollups give what the records give."""

import datetime as dt

import pytest
from django.utils import timezone

from quota.dashboards.selectors.service import open_cases_metric
from quota.kpi import rollups
from quota.kpi.plans import plan
from quota.service.models import CaseStatus
from quota.testing.factories import CaseFactory

pytestmark = pytest.mark.django_db


def open_cases(client, user) -> int:
    client.force_login(user)
    cards = client.get("/dashboards/service/").context["cards"]
    return next(card for card in cards if card.key == "open_cases").value


def test_the_open_cases_card_reads_rollups_that_writes_keep_current(client, world, django_capture_on_commit_callbacks):
    now = timezone.now()
    leaves = {leaf.key for leaf in plan(open_cases_metric().parsed).leaves}
    assert leaves <= {leaf.key for leaf in rollups.rollup_leaves()}
    CaseFactory(owner=world.agent, created_at=now - dt.timedelta(days=400))
    CaseFactory(owner=world.agent, created_at=now - dt.timedelta(hours=5))
    resolved = CaseFactory(owner=world.agent, created_at=now - dt.timedelta(days=2))
    rollups.rebuild()
    assert leaves <= rollups.fresh_leaves(rollups.rollup_leaves(), "default").keys()
    with django_capture_on_commit_callbacks(execute=True):  # a write through the ORM refreshes them
        resolved.status, resolved.resolved_at = CaseStatus.RESOLVED, now - dt.timedelta(hours=1)
        resolved.save()
    assert leaves <= rollups.fresh_leaves(rollups.rollup_leaves(), "default").keys()
    from_rollups = open_cases(client, world.director)
    with rollups.bypassed():
        from_records = open_cases(client, world.director)
    assert from_rollups == from_records == 2
