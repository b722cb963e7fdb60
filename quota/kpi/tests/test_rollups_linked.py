"""Rollups of records seen through a parent's owner: campaign messages count for (and are visible as) their campaign's."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from quota.accounts.models import Role
from quota.kpi import rollups
from quota.kpi.engine import evaluate
from quota.kpi.models import RollupState
from quota.kpi.sources import get_source
from quota.marketing.models import CampaignRecipient
from quota.testing.factories import CampaignFactory, CampaignRecipientFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

KPIS = ["campaign_open_rate", "campaign_click_rate"]
WINDOW = {"start": dt.date(2024, 1, 1), "end": dt.date(2024, 6, 30), "every": "month"}


def at(month, day, hour=10):
    return dt.datetime(2024, month, day, hour, tzinfo=dt.UTC)


def values(user=None, by="person", **window):
    evaluation = evaluate(KPIS, user=user, by=by, **(window or WINDOW))
    return {r.key: [(p.period, p.group and p.group.id, p.value, p.previous) for p in r.points] for r in evaluation}


def assert_same_as_records(user=None, by="person", **window):
    from_rollups = values(user, by, **window)
    with rollups.bypassed():
        assert from_rollups == values(user, by, **window)


def fresh() -> bool:
    leaves = [leaf for leaf in rollups.rollup_leaves() if leaf.source == "campaign_events"]
    return bool(leaves) and rollups.fresh_leaves(leaves, "default").keys() == {leaf.key for leaf in leaves}


@pytest.fixture
def campaigns():
    team = TeamFactory()
    marketers = [UserFactory(role=Role.MARKETING, team=team), UserFactory(role=Role.MARKETING, team=TeamFactory())]
    for number, owner in enumerate([*marketers, None]):
        campaign = CampaignFactory(owner=owner, starts_on=dt.date(2024, 1, 1))
        for month in range(1, 6):
            for day in range(1, 4 + number):
                CampaignRecipientFactory(
                    campaign=campaign,
                    sent_at=at(month, day),
                    opened_at=at(month, day, 12) if day % 2 else None,
                    clicked_at=at(month, day, 13) if day == 1 else None,
                )
    rollups.rebuild()
    return marketers


def test_campaign_messages_are_rolled_up_by_their_campaigns_owner():
    assert rollups.owner_link(get_source("campaign_events")) == "campaign"
    assert rollups.owner_link(get_source("deals")) == ""
    assert rollups.owner_link(get_source("stage_changes")) == "deal"


def test_fresh_rollups_answer_the_open_and_click_rates(campaigns):
    assert fresh()
    with CaptureQueriesContext(connection) as captured:
        evaluate(KPIS, user=None, by="person", **WINDOW)
    sql = " ".join(q["sql"] for q in captured.captured_queries if "kpi_rollupstate" not in q["sql"])
    assert "kpi_rollup" in sql and "marketing_campaignrecipient" not in sql
    assert_same_as_records()
    assert_same_as_records(by="team")
    assert_same_as_records(by="none", start=dt.date(2024, 2, 10), end=dt.date(2024, 4, 3), every="none")
    owner = campaigns[0]
    assert_same_as_records(user=owner, by="none")  # a marketer in a team sees their team's campaigns only
    rate = values(by="person")["campaign_open_rate"]
    assert {group for _period, group, *_ in rate} == {owner.pk, campaigns[1].pk, None}


def test_writes_through_the_orm_keep_them_current(campaigns, django_capture_on_commit_callbacks):
    owner, other = campaigns
    theirs = CampaignFactory(owner=other, starts_on=dt.date(2024, 1, 1))
    with django_capture_on_commit_callbacks(execute=True):
        new = CampaignRecipientFactory(campaign=theirs, sent_at=at(3, 9))
        new.opened_at = at(3, 10)
        new.save()
        moved = CampaignRecipient.objects.filter(campaign__owner=owner).first()
        moved.sent_at, moved.opened_at, moved.clicked_at = at(6, 1), at(6, 2), None
        moved.campaign = theirs  # another campaign, so another owner: both owners' days are refreshed
        moved.save()
        CampaignRecipient.objects.filter(campaign__owner=other).last().delete()
    assert fresh()
    assert_same_as_records()


def test_a_campaign_handed_over_makes_its_messages_stale_until_the_rebuild(campaigns, django_capture_on_commit_callbacks):
    owner, other = campaigns
    campaign = CampaignFactory._meta.model.objects.get(owner=owner)
    with django_capture_on_commit_callbacks(execute=True):
        campaign.name = "renamed"
        campaign.save()  # the same owner: nothing moves
    assert fresh()
    with django_capture_on_commit_callbacks(execute=True):
        campaign.owner = other
        campaign.save()
    assert not fresh()
    assert_same_as_records()  # the records answer, as the new owner's
    assert rollups.rebuild_stale()
    assert fresh()
    assert_same_as_records()


def test_a_campaign_deleted_with_its_messages_leaves_them_stale_not_wrong(campaigns, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        CampaignFactory._meta.model.objects.filter(owner=campaigns[1]).delete()
    assert not RollupState.objects.filter(source="campaign_events", max_pk__gte=0).exists()
    assert_same_as_records()
