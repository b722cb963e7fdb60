"""A NUL character anywhere in a request is a 400 that says where, and nothing is read or written.

PostgreSQL refuses NUL in text ("A string literal cannot contain NUL (0x00) characters"): before
the middleware, `?q=%00` was a 500 on every list, autocomplete and API search, and cut a streamed
CSV export off after its 200. SQLite kept them silently. Both databases run these tests.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from quota.accounts.models import Role
from quota.crm.models import Company, Deal
from quota.testing.factories import CompanyFactory, DealFactory, UserFactory

pytestmark = pytest.mark.django_db

LISTS = ["crm:company", "crm:deal", "crm:lead", "crm:contact", "sales:order", "activities:activity", "service:case"]
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "record-table"}


@pytest.fixture
def director(client):
    user = UserFactory(role=Role.DIRECTOR, team=None)
    client.force_login(user)
    CompanyFactory(name="Acme", owner=user)
    return user


def api_for(user) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api


def refused(response, where: str) -> str:
    assert response.status_code == 400, response.status_code
    text = response.content.decode()
    assert "contains a NUL character" in text and where in text, text[:500]
    return text


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize("page", ["list", "autocomplete", "export"])
def test_nul_in_a_search_is_refused_on_every_list_autocomplete_and_export(client, director, name, page):
    response = client.get(reverse(f"{name}_{page}"), {"q": "Ac\x00me", "format": "csv"})
    refused(response, "The parameter “q”")
    assert not getattr(response, "streaming", False)  # a complete answer, not a download cut short


def test_nul_in_a_filter_or_its_name_is_refused_too(client, director):
    refused(client.get(reverse("crm:company_list"), {"name": "\x00"}), "“name”")
    refused(client.get(reverse("crm:company_list") + "?na%00me=x"), "“na\\0me”")


def test_an_htmx_list_request_gets_the_message_alone(client, director):
    response = client.get(reverse("crm:company_list"), {"q": "\x00"}, **HTMX)
    text = refused(response, "“q”")
    assert "<html" not in text and 'role="alert"' in text


def test_the_same_search_without_nul_works(client, director):
    response = client.get(reverse("crm:company_list"), {"q": "Acme"})
    assert response.status_code == 200 and "Acme" in response.content.decode()
    export = client.get(reverse("crm:company_export"), {"q": "Acme", "format": "csv"})
    assert export.status_code == 200 and "Acme" in b"".join(export.streaming_content).decode()


def test_nul_in_the_address_is_refused(client, director):
    refused(client.get("/dashboards/kpi/won%00revenue/"), "The address")


def test_nul_in_a_form_field_writes_nothing(client, director):
    before = Company.objects.count()
    response = client.post(reverse("crm:company_create"), {"name": "Nul\x00Corp", "owner": director.pk})
    refused(response, "The field “name”")
    assert Company.objects.count() == before


def test_nul_in_the_api_search_and_json_bodies_is_a_json_400(director):
    api = api_for(director)
    response = api.get("/api/companies/", {"search": "\x00"})
    assert response.status_code == 400 and "“search”" in response.json()["detail"]

    deal = DealFactory(owner=director)
    before = (Company.objects.count(), Deal.objects.get(pk=deal.pk).custom)
    body = json.dumps({"name": "Nul\x00Corp", "custom": {"note": "a\x00b"}})  # json.dumps writes \u0000
    assert "\\u0000" in body
    response = api.post("/api/companies/", body, content_type="application/json")
    assert response.status_code == 400 and "The JSON body contains a NUL character" in response.json()["detail"]
    response = api.patch(f"/api/deals/{deal.pk}/", json.dumps({"custom": {"x\u0000": 1}}), content_type="application/json")
    assert response.status_code == 400
    response = api.patch(f"/api/deals/{deal.pk}/", "title=Nul%00deal", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and "“title”" in response.json()["detail"]
    assert (Company.objects.count(), Deal.objects.get(pk=deal.pk).custom) == before


def test_an_escaped_backslash_before_u0000_is_text_not_nul(director):
    # The JSON text \\u0000 is a backslash followed by "u0000": no NUL, and the API takes it.
    response = api_for(director).post("/api/companies/", '{"name": "C:\\\\u0000 Ltd"}', content_type="application/json")
    assert response.status_code == 201, response.content
    assert Company.objects.get(pk=response.json()["id"]).name == "C:\\u0000 Ltd"
