import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from quota.activities.models import Activity
from quota.crm.services import deal_close_lost, deal_close_won, deal_win_back
from quota.testing.factories import DealFactory, loss_reason

pytestmark = pytest.mark.django_db


def lost(reason_name: str, **kwargs):
    deal = DealFactory(created_at=timezone.now() - dt.timedelta(days=30))
    closed = timezone.now() - dt.timedelta(days=1)
    return deal_close_lost(deal=deal, by=deal.owner, reason=loss_reason(reason_name), at=closed, **kwargs)


@pytest.mark.parametrize(("reason", "days"), [("Price too high", 90), ("No budget", 180)])
def test_a_lost_deal_gets_a_follow_up_after_its_reasons_delay(reason, days):
    deal = lost(reason)
    task = Activity.objects.get(deal=deal, kind="task")
    assert task.owner == deal.owner and task.occurred_at == deal.closed_at + dt.timedelta(days=days)
    assert deal.title in task.subject


def test_competitor_chosen_gets_no_follow_up_unless_a_date_is_given():
    assert not Activity.objects.filter(deal=lost("Competitor chosen")).exists()
    on = timezone.localdate() + dt.timedelta(days=10)
    deal = lost("Competitor chosen", follow_up_on=on)
    assert timezone.localdate(Activity.objects.get(deal=deal).occurred_at) == on


def test_a_follow_up_before_the_loss_is_rejected_and_the_deal_stays_open():
    deal = DealFactory(created_at=timezone.now() - dt.timedelta(days=30))
    with pytest.raises(ValidationError):
        deal_close_lost(deal=deal, by=deal.owner, reason=loss_reason("Timing"), follow_up_on=dt.date(2000, 1, 1))
    deal.refresh_from_db()
    assert deal.status == "open" and not Activity.objects.exists()


def test_win_back_links_the_new_deal_to_the_lost_one():
    deal = lost("Price too high")
    new = deal_win_back(lost_deal=deal, by=deal.owner)
    assert new.won_back_from == deal and new.company == deal.company and new.status == "open"
    deal_close_won(deal=new, by=deal.owner)
    assert deal.win_backs.filter(status="won").count() == 1


def test_only_lost_deals_are_won_back():
    deal = DealFactory()
    with pytest.raises(ValidationError):
        deal_win_back(lost_deal=deal, by=deal.owner)
