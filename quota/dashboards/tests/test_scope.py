"""A card's link keeps its scope; the KPI page says whose figures it shows and offers only those the user may see.

And the records behind a number are that number's records: a team's, a custom KPI's (with its conditions), and a
past pipeline's deals as they stood at the period's end.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from quota.crm.models import Stage
from quota.crm.services import deal_close_won, deal_create, deal_move_stage
from quota.dashboards.tests.conftest import last_month_moment, lost_deal, month_start, open_deal, this_month_moment, won_deal
from quota.kpi.models import Metric
from quota.testing.factories import default_pipeline

pytestmark = pytest.mark.django_db


def attribute(content: str, element: str, name: str) -> str:
    """The attribute `name` of the first `element` tag that has it."""
    match = re.search(rf'<{element}\b[^>]*\b{name}="([^"]*)"', content)
    assert match, f"no <{element} {name}=...>"
    return match.group(1)


def headline(client, url: str) -> tuple[str, str]:
    content = client.get(url).content.decode()
    return attribute(content, "article", "data-scope"), attribute(content, "article", "data-value")


def summary(client, url: str) -> tuple[str, str]:
    content = client.get(url).content.decode()
    return attribute(content, "p", "data-count"), attribute(content, "p", "data-sum")


# ----------------------------------------------------------------------------- scope


def test_a_reps_own_card_opens_the_kpi_page_on_their_own_figures(client, world):
    won_deal(world.rep, "400.00", this_month_moment())
    won_deal(world.teammate, "600.00", this_month_moment())
    client.force_login(world.rep)
    board = client.get("/dashboards/my/").content.decode()
    card = re.search(r'<article[^>]*data-kpi="won_revenue"[^>]*>.*?href="([^"]+)"', board, re.S)
    assert card and 'data-scope="me"' in card.group(0) and 'data-value="400.00"' in card.group(0)
    url = card.group(1).replace("&amp;", "&")
    assert "scope=me" in url
    assert headline(client, url) == ("me", "400.00")  # not the team's 1000.00
    content = client.get(url).content.decode()
    assert "Figures of: My own figures" in content
    records = client.get(url).context["records"]
    assert f"owner={world.rep.pk}" in records.url and records.complete
    assert summary(client, records.url) == ("1", "400.00")


def test_the_sales_board_cards_keep_everything_the_user_sees(client, world):
    won_deal(world.rep, "400.00", this_month_moment())
    won_deal(world.south_rep, "50.00", this_month_moment())
    client.force_login(world.manager)
    board = client.get("/dashboards/sales/").content.decode()
    assert 'data-kpi="won_revenue" data-scope="company" data-value="400.00"' in board  # the team, all it can see
    assert headline(client, "/dashboards/kpi/won_revenue/?period=this_month&scope=company") == ("company", "400.00")


def test_the_kpi_page_offers_only_the_scopes_the_user_may_see(client, world):
    client.force_login(world.rep)
    scopes = [scope.key for scope in client.get("/dashboards/kpi/won_revenue/").context["scopes"]]
    assert scopes == ["me", "company", f"team:{world.north.pk}"]  # not South, not the company's whole
    client.force_login(world.director)
    scopes = [scope.key for scope in client.get("/dashboards/kpi/won_revenue/").context["scopes"]]
    assert {f"team:{world.north.pk}", f"team:{world.south.pk}", "company", "me"} <= set(scopes)


@pytest.mark.parametrize("scope", ["team:{south}", "team:999999", "person:1", "team:", "everyone"])
def test_a_scope_beyond_what_the_user_sees_is_refused(client, world, scope):
    won_deal(world.south_rep, "777.00", this_month_moment())
    client.force_login(world.rep)
    response = client.get("/dashboards/kpi/won_revenue/", {"scope": scope.format(south=world.south.pk)})
    assert response.status_code == 403
    assert "777" not in response.content.decode()


def test_a_team_scope_shows_that_teams_figures_and_records(client, world):
    won_deal(world.rep, "100.00", this_month_moment())
    won_deal(world.south_rep, "300.00", this_month_moment())
    client.force_login(world.director)
    url = f"/dashboards/kpi/won_revenue/?scope=team:{world.south.pk}"
    assert headline(client, url) == (f"team:{world.south.pk}", "300.00")
    records = client.get(url).context["records"]
    assert f"team={world.south.pk}" in records.url and records.complete
    assert summary(client, records.url) == ("1", "300.00")


def test_each_teams_records_link_lists_that_team(client, world):
    won_deal(world.rep, "100.00", this_month_moment())
    won_deal(world.teammate, "20.00", this_month_moment())
    won_deal(world.south_rep, "300.00", this_month_moment())
    client.force_login(world.director)
    rows = client.get("/dashboards/kpi/won_revenue/?by=team").context["breakdown"].rows
    links = {row.label: row.records for row in rows}
    assert links["North"].url != links["South"].url and all(link.complete for link in links.values())
    assert summary(client, links["North"].url) == ("2", "120.00")
    assert summary(client, links["South"].url) == ("1", "300.00")


def test_a_custom_kpis_records_keep_its_conditions(client, world):
    moment = this_month_moment()
    won_deal(world.rep, "5000.00", moment)
    won_deal(world.rep, "200.00", moment)
    definition = {
        "source": "deals",
        "date": "closed_at",
        "filters": [{"field": "status", "op": "eq", "value": "won"}, {"field": "amount", "op": "gte", "value": 1000}],
        "measure": {"kind": "count"},
        "unit": "count",
        "better": "higher",
    }
    Metric.objects.create(key="big_wins", name="Big wins", definition=definition, is_builtin=False)
    client.force_login(world.director)
    assert headline(client, "/dashboards/kpi/big_wins/")[1] == "1"
    records = client.get("/dashboards/kpi/big_wins/").context["records"]
    assert "kpi=big_wins" in records.url and records.complete
    assert summary(client, records.url)[0] == "1"


def test_an_unknown_or_unlistable_kpi_filter_is_a_400(client, world):
    client.force_login(world.director)
    assert client.get("/crm/deals/", {"kpi": "no_such_kpi"}).status_code == 400
    assert client.get("/crm/deals/", {"kpi": "new_leads"}).status_code == 400  # leads, not deals
    assert client.get("/crm/deals/", {"kpi": "win_rate"}).status_code == 400  # a ratio is not one list


# ----------------------------------------------------------------------------- a past pipeline


def test_last_months_pipeline_lists_the_deals_open_then_in_the_stage_they_were_in(client, world):
    first, second = Stage.objects.filter(pipeline=default_pipeline()).order_by("position")[:2]
    then = last_month_moment()
    # Open at the end of last month in the first stage; moved on and won this month (its history says so).
    moved = deal_create(by=None, title="Moved", owner=world.rep, amount=Decimal("700.00"), stage=first, created_at=then)
    moved_on = this_month_moment()
    deal_move_stage(deal=moved, stage=second, by=None, at=moved_on)
    deal_close_won(deal=moved, by=None, at=moved_on)
    open_deal(world.rep, "50.00")  # created this month: not in last month's pipeline
    lost_deal(world.rep, then)  # closed before last month ended

    client.force_login(world.director)
    url = "/dashboards/kpi/pipeline_value/?period=last_month"
    assert headline(client, url)[1] == "700.00"
    records = client.get(url).context["records"]
    last_day = (month_start() - dt.timedelta(days=1)).date()
    assert records.url == f"/crm/deals/?open_on={last_day.isoformat()}" and records.complete
    listed = client.get(records.url)
    assert "as they stood on" in listed.content.decode()
    assert summary(client, records.url) == ("1", "700.00")

    funnel = client.get("/dashboards/sales/?period=last_month").context["funnel"]
    assert [(step.stage_id, step.deals) for step in funnel.steps] == [(first.pk, 1)]  # its stage then, not now
    assert f"stage_on={first.pk}" in funnel.steps[0].records_url
    assert summary(client, funnel.steps[0].records_url) == ("1", "700.00")
    assert summary(client, f"/crm/deals/?open_on={last_day.isoformat()}&stage_on={second.pk}")[0] == "0"
