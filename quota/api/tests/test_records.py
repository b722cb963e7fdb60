"""The REST API: CRUD for records, the deal actions, per-role visibility, clear errors."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from quota.accounts.models import Role, Team
from quota.crm.models import Deal, DealStageChange, Lead
from quota.crm.services import deal_create
from quota.testing.api import client_for
from quota.testing.factories import CompanyFactory, LeadFactory, ProductFactory, UserFactory, loss_reason

pytestmark = pytest.mark.django_db


@pytest.fixture
def teams():
    north, south = Team.objects.create(name="North"), Team.objects.create(name="South")
    rep_n, rep_s = UserFactory(team=north), UserFactory(team=south)
    return {
        "rep_n": rep_n,
        "rep_s": rep_s,
        "mate_n": UserFactory(team=north),
        "manager_n": UserFactory(team=north, role=Role.MANAGER),
        "director": UserFactory(team=None, role=Role.DIRECTOR),
        "viewer": UserFactory(team=None, role=Role.VIEWER),
        "deal_n": deal_create(by=None, title="North deal", owner=rep_n, amount=Decimal("100")),
        "deal_s": deal_create(by=None, title="South deal", owner=rep_s, amount=Decimal("200")),
    }


def test_requests_without_a_token_are_refused():
    assert APIClient().get("/api/deals/").status_code in (401, 403)


def test_rep_cannot_read_or_change_another_teams_deal(teams):
    api = client_for(teams["rep_n"])
    deal_s = teams["deal_s"]
    listed = {row["id"] for row in api.get("/api/deals/").json()["results"]}
    assert listed == {teams["deal_n"].pk}
    assert api.get(f"/api/deals/{deal_s.pk}/").status_code == 404
    assert api.patch(f"/api/deals/{deal_s.pk}/", {"amount": "1.00"}, format="json").status_code == 404
    assert api.post(f"/api/deals/{deal_s.pk}/win/", {}, format="json").status_code == 404
    assert api.delete(f"/api/deals/{deal_s.pk}/").status_code == 404
    deal_s.refresh_from_db()
    assert deal_s.amount == Decimal("200") and deal_s.status == "open"


def test_rep_reads_but_cannot_change_a_team_mates_deal(teams):
    mate_deal = deal_create(by=None, title="Mate's", owner=teams["mate_n"], amount=Decimal("50"))
    api = client_for(teams["rep_n"])
    assert api.get(f"/api/deals/{mate_deal.pk}/").status_code == 200
    response = api.patch(f"/api/deals/{mate_deal.pk}/", {"amount": "1.00"}, format="json")
    assert response.status_code == 403 and "another person or team" in response.json()["detail"]


def test_director_sees_every_deal_and_viewer_cannot_write(teams):
    assert client_for(teams["director"]).get("/api/deals/").json()["count"] == 2
    viewer = client_for(teams["viewer"])
    assert viewer.get("/api/deals/").json()["count"] == 2
    assert viewer.post("/api/deals/", {"title": "x"}, format="json").status_code == 403


def test_create_a_deal_then_move_win_and_see_its_history(teams):
    rep = teams["rep_n"]
    api = client_for(rep)
    company = CompanyFactory(owner=rep)
    created = api.post("/api/deals/", {"title": "Fleet", "amount": "999.50", "company": company.pk}, format="json")
    assert created.status_code == 201, created.json()
    deal = Deal.objects.get(pk=created.json()["id"])
    assert deal.owner == rep and deal.status == "open"
    next_stage = deal.pipeline.stages.order_by("position")[1]
    assert api.post(f"/api/deals/{deal.pk}/move/", {"stage": next_stage.pk}, format="json").json()["stage"] == next_stage.pk
    won = api.post(f"/api/deals/{deal.pk}/win/", {"amount": "1200.00"}, format="json").json()
    assert won["status"] == "won" and won["amount"] == "1200.00"
    history = api.get("/api/deal-stage-changes/", {"deal": deal.pk}).json()["results"]
    assert [row["to_status"] for row in history] == ["open", "open", "won"]
    assert DealStageChange.objects.filter(deal=deal).count() == 3


def test_lose_needs_a_reason_and_says_so(teams):
    api = client_for(teams["rep_n"])
    deal = teams["deal_n"]
    response = api.post(f"/api/deals/{deal.pk}/lose/", {}, format="json")
    assert response.status_code == 400 and "loss_reason" in response.json()
    reason = loss_reason("No budget")
    assert api.post(f"/api/deals/{deal.pk}/lose/", {"loss_reason": reason.pk}, format="json").json()["status"] == "lost"


def test_bad_input_gets_field_errors_and_changes_nothing(teams):
    api = client_for(teams["rep_n"])
    deal = teams["deal_n"]
    response = api.patch(f"/api/deals/{deal.pk}/", {"amount": "-5"}, format="json")
    assert response.status_code == 400 and "amount" in response.json()
    response = api.post("/api/deals/", {"title": "x", "company": 10**9}, format="json")
    assert response.status_code == 400 and "company" in response.json()
    deal.refresh_from_db()
    assert deal.amount == Decimal("100")


def test_a_record_cannot_point_at_a_company_the_caller_cannot_see(teams):
    hidden = CompanyFactory(owner=teams["rep_s"])
    response = client_for(teams["rep_n"]).post("/api/deals/", {"title": "x", "company": hidden.pk}, format="json")
    assert response.status_code == 400 and "company" in response.json()


def test_rep_cannot_give_a_deal_to_another_team(teams):
    response = client_for(teams["rep_n"]).post("/api/deals/", {"title": "x", "owner": teams["rep_s"].pk}, format="json")
    assert response.status_code in (400, 403)
    assert not Deal.objects.filter(title="x").exists()


def test_lead_create_and_convert(teams):
    rep = teams["rep_n"]
    api = client_for(rep)
    source = LeadFactory(owner=rep).source
    created = api.post(
        "/api/leads/", {"title": "Web enquiry", "source": source.pk, "company_name": "Umbrella", "last_name": "Ng"}
    )
    assert created.status_code == 201, created.json()
    converted = api.post(f"/api/leads/{created.json()['id']}/convert/", {"amount": "300"}, format="json")
    assert converted.status_code == 201 and converted.json()["status"] == "open"
    assert Lead.objects.get(pk=created.json()["id"]).status == "converted"


def test_filtering_ordering_and_search(teams):
    api = client_for(teams["director"])
    assert [d["title"] for d in api.get("/api/deals/", {"ordering": "-amount"}).json()["results"]] == ["South deal", "North deal"]
    assert api.get("/api/deals/", {"min_amount": "150"}).json()["count"] == 1
    assert api.get("/api/deals/", {"search": "north"}).json()["count"] == 1
    assert api.get("/api/deals/", {"owner": teams["rep_s"].pk}).json()["count"] == 1


def test_offer_totals_follow_their_lines(teams):
    rep = teams["rep_n"]
    api = client_for(rep)
    company = CompanyFactory(owner=rep)
    offer = api.post("/api/offers/", {"company": company.pk}, format="json").json()
    product = ProductFactory(price=Decimal("100"), cost=Decimal("40"))
    line = api.post(
        "/api/offer-lines/",
        {"offer": offer["id"], "product": product.pk, "quantity": "3", "discount_percent": "10"},
        format="json",
    )
    assert line.status_code == 201, line.json()
    assert api.get(f"/api/offers/{offer['id']}/").json()["amount"] == "270.00"
    api.delete(f"/api/offer-lines/{line.json()['id']}/")
    assert api.get(f"/api/offers/{offer['id']}/").json()["amount"] == "0.00"


def test_an_erp_can_post_orders_and_invoices_with_their_cost(teams):
    api = client_for(teams["director"])
    company = CompanyFactory()
    order = api.post(
        "/api/orders/",
        {"number": "ERP-1", "company": company.pk, "amount": "1000", "cost": "1200", "external_id": "erp-1"},
        format="json",
    )
    assert order.status_code == 201 and order.json()["profit"] == "-200.00"
    invoice = api.post(
        "/api/invoices/",
        {"number": "INV-1", "company": company.pk, "order": order.json()["id"], "amount": "1000", "cost": "1200"},
        format="json",
    )
    assert invoice.status_code == 201 and invoice.json()["profit"] == "-200.00"
    # Numbers are Quota's, read only: a number posted is not taken (the ERP's own goes in external_id).
    assert invoice.json()["number"].startswith("INV-") and invoice.json()["number"] != "INV-1"
    assert order.json()["number"].startswith("SO-")


def test_configuration_is_changed_by_directors_only(teams):
    assert client_for(teams["rep_n"]).post("/api/lead-sources/", {"key": "fair", "name": "Fair"}).status_code == 403
    assert client_for(teams["director"]).post("/api/lead-sources/", {"key": "fair", "name": "Fair"}).status_code == 201


def test_deleting_a_company_with_deals_is_refused_with_a_reason(teams):
    company = CompanyFactory(owner=teams["rep_n"])
    deal_create(by=None, title="Keeps it", owner=teams["rep_n"], company=company)
    response = client_for(teams["director"]).delete(f"/api/companies/{company.pk}/")
    assert response.status_code == 400 and "cannot be deleted" in str(response.json())


def test_schema_and_docs_are_served_to_signed_in_people(client, teams):
    assert client.get("/api/schema/").status_code == 403
    client.force_login(teams["rep_n"])
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


def test_api_token_command_prints_a_working_token(capsys, teams):
    call_command("api-token", teams["rep_n"].username)
    token = capsys.readouterr().out.strip()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/deals/").status_code == 200


def test_api_token_command_rejects_unknown_user():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No user named"):
        call_command("api-token", "nobody")
