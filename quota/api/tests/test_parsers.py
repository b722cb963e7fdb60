"""JSON the API cannot take: nested too deeply (a RecursionError once), in a body or a form field. A 400, nothing written."""

from __future__ import annotations

import json

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from quota.accounts.models import Role
from quota.crm.models import Company, CustomField, Deal
from quota.testing.factories import DealFactory, UserFactory

pytestmark = pytest.mark.django_db

DEEP = "[" * 20_000 + "]" * 20_000


@pytest.fixture
def api():
    CustomField.objects.create(target="deal", key="note", label="Note", field_type="text")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=UserFactory(role=Role.DIRECTOR, team=None)).key}")
    return client


def test_a_body_nested_20000_levels_deep_is_a_400(api):
    deal = DealFactory()
    before = (Company.objects.count(), Deal.objects.get(pk=deal.pk).custom)
    response = api.post("/api/companies/", f'{{"name": "Deep", "custom": {DEEP}}}', content_type="application/json")
    assert response.status_code == 400 and "nested more than 32 levels" in response.json()["detail"]
    response = api.patch(f"/api/deals/{deal.pk}/", f'{{"custom": {{"note": {DEEP}}}}}', content_type="application/json")
    assert response.status_code == 400 and "nested more than 32 levels" in response.json()["detail"]
    assert (Company.objects.count(), Deal.objects.get(pk=deal.pk).custom) == before


def test_custom_values_sent_as_a_form_field_are_bounded_too(api):
    deal = DealFactory()
    response = api.patch(f"/api/deals/{deal.pk}/", {"custom": '{"note": ' + DEEP + "}"}, format="multipart")
    assert response.status_code == 400 and "nested" in json.dumps(response.json()["custom"])
    response = api.patch(f"/api/deals/{deal.pk}/", {"custom": json.dumps({"note": [[1]]})}, format="multipart")
    assert response.status_code == 400 and "Note takes a single value" in json.dumps(response.json())
    assert Deal.objects.get(pk=deal.pk).custom == {}


def test_nested_or_oversized_custom_values_in_json_are_refused(api):
    deal = DealFactory()
    for custom, message in [({"note": {"a": {"b": 1}}}, "takes a single value"), ({"note": "x" * 10_001}, "longer than")]:
        response = api.patch(f"/api/deals/{deal.pk}/", {"custom": custom}, format="json")
        assert response.status_code == 400 and message in json.dumps(response.json()), response.json()
    assert Deal.objects.get(pk=deal.pk).custom == {}
    ok = api.patch(f"/api/deals/{deal.pk}/", {"custom": {"note": "fine"}}, format="json")
    assert ok.status_code == 200 and Deal.objects.get(pk=deal.pk).custom == {"note": "fine"}
