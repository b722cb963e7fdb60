"""The board's Won and Lost drop zones, its overdue/stale flags, and the deal list's flag filter."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from quota.activities.models import Activity
from quota.crm.choices import DealStatus
from quota.crm.models import Deal
from quota.crm.services import deal_create
from quota.testing.factories import DealFactory, loss_reason

pytestmark = pytest.mark.django_db

DROP = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "board"}  # what board.js sends for a drop on "Won"
DIALOG = {"HTTP_HX_REQUEST": "true"}  # the Lost dialog's form (aimed at itself; ?board=1 says where it came from)


def test_dropping_on_won_wins_the_deal_and_answers_with_the_board(client, people):
    rep = people["rep"]
    deal = deal_create(by=rep, title="Fleet", owner=rep)
    client.force_login(rep)
    response = client.post(reverse("crm:deal_win", args=[deal.pk]), {"owner": ""}, **DROP)
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<div id="board"')
    deal.refresh_from_db()
    assert deal.status == DealStatus.WON and deal.closed_at is not None
    assert deal.pk not in {card.pk for column in response.context["board"].columns for card in column.cards}


def test_dropping_on_lost_asks_for_the_reason_then_closes_the_dialog_with_the_board(client, people):
    rep = people["rep"]
    reason = loss_reason("Price too high")
    reason.follow_up_after_days = 90
    reason.save()
    deal = deal_create(by=rep, title="Fleet", owner=rep)
    client.force_login(rep)
    url = reverse("crm:deal_lose", args=[deal.pk])
    form = client.get(url, {"board": "1", "owner": rep.pk}, **DIALOG).content.decode()
    assert "Price too high" in form and f'hx-post="{url}?board=1&amp;owner={rep.pk}"' in form

    without_reason = client.post(f"{url}?board=1", {"note": "too dear"}, **DIALOG)
    assert "Say why the deal was lost." in without_reason.content.decode()  # the form again, in the dialog
    assert Deal.objects.get(pk=deal.pk).status == DealStatus.OPEN

    response = client.post(f"{url}?board=1&owner={rep.pk}", {"loss_reason": reason.pk, "note": "too dear"}, **DIALOG)
    assert response.status_code == 200
    assert (response["HX-Retarget"], response["HX-Reswap"]) == ("#board", "outerHTML")
    assert "board-dialog-close" in response["HX-Trigger"]
    assert response.context["board"].owner == rep
    deal.refresh_from_db()
    assert (deal.status, deal.loss_reason, deal.loss_note) == (DealStatus.LOST, reason, "too dear")
    assert Activity.objects.filter(deal=deal, subject__startswith="Follow up").exists()  # the service's follow-up task


@pytest.mark.parametrize("action", ["crm:deal_win", "crm:deal_lose"])
def test_a_rep_cannot_close_a_teammates_deal_from_the_board(client, people, action):
    deal = deal_create(by=None, title="Teammate's", owner=people["teammate"])
    client.force_login(people["rep"])
    response = client.post(reverse(action, args=[deal.pk]), {"loss_reason": loss_reason().pk}, **DROP)
    assert response.status_code == 403
    assert Deal.objects.get(pk=deal.pk).status == DealStatus.OPEN


@pytest.mark.parametrize("action", ["crm:deal_win", "crm:deal_lose"])
def test_another_teams_deal_is_not_found(client, people, action):
    deal = DealFactory(owner=people["south_rep"])
    client.force_login(people["rep"])
    assert client.post(reverse(action, args=[deal.pk]), {"loss_reason": loss_reason().pk}, **DROP).status_code == 404
    assert client.get(reverse("crm:deal_lose", args=[deal.pk]), {"board": "1"}, **DIALOG).status_code == 404


def test_a_closed_deal_dropped_on_won_explains_why(client, people):
    rep = people["rep"]
    deal = deal_create(by=rep, title="Done", owner=rep)
    client.force_login(rep)
    client.post(reverse("crm:deal_win", args=[deal.pk]), **DROP)
    response = client.post(reverse("crm:deal_win", args=[deal.pk]), **DROP)
    assert response.status_code == 422 and b"already won" in response.content


def test_the_drop_zones_show_only_to_someone_who_may_close_a_card(client, people):
    deal_create(by=None, title="Teammate's", owner=people["teammate"])
    client.force_login(people["rep"])
    assert 'data-outcome="won"' not in client.get(reverse("crm:board")).content.decode()
    deal_create(by=None, title="Mine", owner=people["rep"])
    assert 'data-outcome="lost"' in client.get(reverse("crm:board")).content.decode()


def test_cards_and_list_flag_overdue_and_stale_deals(client, people):
    rep = people["rep"]
    today = timezone.localdate()
    long_ago = timezone.now() - dt.timedelta(days=60)
    DealFactory(title="Late", owner=rep, expected_close_date=today - dt.timedelta(days=1))
    DealFactory(title="Quiet", owner=rep, created_at=long_ago)
    DealFactory(title="Fine", owner=rep, expected_close_date=today)
    client.force_login(rep)
    page = client.get(reverse("crm:board")).content.decode()
    assert page.count("flag-overdue") == 1 and page.count("flag-stale") == 1

    def listed(flag):
        response = client.get(reverse("crm:deal_list"), {"flag": flag})
        return {deal.title for deal in response.context["page"].object_list}

    assert listed("overdue") == {"Late"} and listed("stale") == {"Quiet"} and listed("") == {"Late", "Quiet", "Fine"}
    assert "Overdue" in client.get(reverse("crm:deal_list")).content.decode()  # the flags column
