"""The pipeline board: grouped column totals, limited cards, drag-and-drop moves and who may make them."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from quota.crm import selectors
from quota.crm.models import Deal, DealStageChange, Pipeline, Stage
from quota.crm.services import deal_close_won, deal_create
from quota.testing.factories import DealFactory, default_pipeline
from quota.testing.views import queries_for

pytestmark = pytest.mark.django_db

# What board.js sends when a card is dropped on a column.
DROP = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "board"}


@pytest.fixture
def stages():
    return list(default_pipeline().stages.order_by("position"))


def column(response, stage):
    return next(c for c in response.context["board"].columns if c.stage == stage)


def cards(response):
    return {deal.title for c in response.context["board"].columns for deal in c.cards}


def test_board_totals_are_count_and_value_in_the_company_currency(client, people, stages):
    rep = people["rep"]
    first, second = stages[0], stages[1]
    DealFactory(owner=rep, stage=first, amount=Decimal("1000.00"))
    DealFactory(owner=rep, stage=first, amount=Decimal("250.50"))
    DealFactory(owner=rep, stage=second, amount=Decimal("400.00"), currency="USD", exchange_rate=Decimal("0.5"))
    deal_close_won(deal=DealFactory(owner=rep, stage=second, amount=Decimal("9999")), by=rep)  # closed: not on the board
    DealFactory(owner=people["south_rep"], stage=first, amount=Decimal("7777"))  # another team's: not visible
    client.force_login(rep)
    response = client.get(reverse("crm:board"))
    assert (column(response, first).count, column(response, first).value) == (2, Decimal("1250.50"))
    assert (column(response, second).count, column(response, second).value) == (1, Decimal("200.00"))
    assert column(response, stages[2]).count == 0
    assert column(response, first).weighted_value == Decimal("1250.50") * first.probability / 100


def test_board_filters_by_owner_and_pipeline(client, people, stages):
    DealFactory(title="Mine", owner=people["rep"], stage=stages[0])
    DealFactory(title="Teammate's", owner=people["teammate"], stage=stages[0])
    other = Pipeline.objects.create(name="Renewals")
    renewal_stage = Stage.objects.create(pipeline=other, name="Notice", position=1, probability=50)
    DealFactory(title="Renewal", owner=people["rep"], pipeline=other, stage=renewal_stage)
    client.force_login(people["rep"])

    assert cards(client.get(reverse("crm:board"))) == {"Mine", "Teammate's"}  # the default pipeline, everyone visible
    assert cards(client.get(reverse("crm:board"), {"owner": people["rep"].pk})) == {"Mine"}
    response = client.get(reverse("crm:board"), {"pipeline": other.pk})
    assert cards(response) == {"Renewal"} and [c.stage for c in response.context["board"].columns] == [renewal_stage]


def test_columns_show_the_most_valuable_cards_and_count_the_rest(client, people, stages, monkeypatch):
    monkeypatch.setattr(selectors, "CARDS_PER_COLUMN", 2)
    for amount in (100, 900, 500, 300):
        DealFactory(title=f"Deal {amount}", owner=people["rep"], stage=stages[0], amount=Decimal(amount))
    client.force_login(people["rep"])
    response = client.get(reverse("crm:board"))
    first = column(response, stages[0])
    assert [deal.title for deal in first.cards] == ["Deal 900", "Deal 500"]
    assert (first.count, first.more) == (4, 2)
    assert "and 2 more" in response.content.decode()


def test_board_query_count_does_not_grow_with_deals(client, people, stages):
    client.force_login(people["director"])
    url = reverse("crm:board")

    def queries():
        return queries_for(client, url)

    for index in range(3):
        DealFactory(owner=people["rep"], stage=stages[index % 4])
    client.get(url)
    few = queries()
    for index in range(30):
        DealFactory(owner=people["south_rep"], stage=stages[index % 4])
    # session, user, pipelines, owners, stages, one grouped totals query, the top cards per stage, their rows
    assert queries() == few == 9  # the board, and the unread-notifications count in the top bar


def test_the_board_names_each_card_action_once_with_a_placeholder_for_the_deal_id(client, people, stages):
    deals = [DealFactory(owner=people["rep"], stage=stages[0]) for _ in range(3)]
    client.force_login(people["rep"])
    html = client.get(reverse("crm:board")).content.decode()
    board = re.search(r'<div id="board"[^>]*>', html).group(0)
    for action in ("move", "win", "lose"):
        pattern = re.search(rf'data-{action}-url="([^"]+)"', board).group(1)
        for deal in deals:  # what board.js makes of it for each card
            assert pattern.replace("{pk}", str(deal.pk)) == reverse(f"crm:deal_{action}", args=[deal.pk])
        assert html.count(f"data-{action}-url=") == 1  # not again on every card


def test_dragging_a_card_moves_the_deal_records_the_change_and_updates_the_totals(client, people, stages):
    rep = people["rep"]
    deal = deal_create(by=rep, title="Fleet", owner=rep, amount=Decimal("1000"))
    client.force_login(rep)
    response = client.post(reverse("crm:deal_move", args=[deal.pk]), {"stage": stages[2].pk, "owner": ""}, **DROP)
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<div id="board"')  # the board, swapped in place
    deal.refresh_from_db()
    assert deal.stage == stages[2]
    change = DealStageChange.objects.filter(deal=deal).latest("changed_at", "pk")
    assert (change.from_stage, change.to_stage, change.changed_by) == (stages[0], stages[2], rep)
    assert column(response, stages[2]).count == 1 and column(response, stages[0]).count == 0


def test_a_rep_cannot_move_a_teammates_deal(client, people, stages):
    deal = deal_create(by=None, title="Teammate's", owner=people["teammate"])
    client.force_login(people["rep"])
    board = client.get(reverse("crm:board"))
    assert deal.pk not in board.context["board"].editable  # its card is not draggable
    response = client.post(reverse("crm:deal_move", args=[deal.pk]), {"stage": stages[1].pk}, **DROP)
    assert response.status_code == 403
    assert b"belongs to another person or team" in response.content
    assert Deal.objects.get(pk=deal.pk).stage == stages[0]
    assert DealStageChange.objects.filter(deal=deal).count() == 1  # only its opening


def test_moving_an_invisible_deal_is_404(client, people, stages):
    deal = DealFactory(owner=people["south_rep"])
    client.force_login(people["rep"])
    assert client.post(reverse("crm:deal_move", args=[deal.pk]), {"stage": stages[1].pk}, **DROP).status_code == 404


def test_a_refused_move_of_a_closed_deal_explains_why(client, people, stages):
    rep = people["rep"]
    deal = deal_close_won(deal=deal_create(by=rep, title="Done", owner=rep), by=rep)
    client.force_login(rep)
    response = client.post(reverse("crm:deal_move", args=[deal.pk]), {"stage": stages[1].pk}, **DROP)
    assert response.status_code == 422
    assert b"Only open deals move" in response.content


def test_moving_from_the_deal_page_without_javascript(client, people, stages):
    rep = people["rep"]
    deal = deal_create(by=rep, title="Fleet", owner=rep)
    client.force_login(rep)
    response = client.post(reverse("crm:deal_move", args=[deal.pk]), {"stage": stages[1].pk})
    assert response.status_code == 302 and response["Location"] == reverse("crm:deal_detail", args=[deal.pk])
    assert Deal.objects.get(pk=deal.pk).stage == stages[1]


def test_each_card_links_to_its_own_deal(client, people, stages):
    rep = people["rep"]
    deals = [DealFactory(owner=rep, stage=stages[index % 2]) for index in range(3)]
    client.force_login(rep)
    html = client.get(reverse("crm:board")).content.decode()
    for deal in deals:  # its move, win and lose URLs are the board's, with its id put in (the test above)
        assert f'"{reverse("crm:deal_detail", args=[deal.pk])}"' in html
