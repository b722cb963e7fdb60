"""The JSON endpoint for integrations: the same rules as the hosted form, answered in JSON."""

import json

import pytest

from quota.crm.models import Lead
from quota.service.models import Case
from quota.webforms.models import WebFormSubmission

pytestmark = pytest.mark.django_db


def post(client, webform, data, **headers):
    body = data if isinstance(data, str) else json.dumps(data)
    return client.post(f"/forms/f/{webform.key}/json/", body, content_type="application/json", **headers)


def test_an_integration_creates_a_lead_once_per_idempotency_key(client, lead_form):
    data = {"name": "Ann Lee", "email": "ann@example.com", "utm_source": "erp"}
    first = post(client, lead_form, data, HTTP_IDEMPOTENCY_KEY="order-1234")
    again = post(client, lead_form, {**data, "name": "Changed"}, HTTP_IDEMPOTENCY_KEY="order-1234")
    assert first.status_code == 201 and again.status_code == 200
    assert again["Idempotent-Replayed"] == "true" and again.json()["reference"] == first.json()["reference"]
    assert first.json()["message"] == "Thanks! We will call you back within a day."
    lead = Lead.objects.get()
    assert lead.last_name == "Lee" and lead.utm == {"utm_source": "erp"}
    assert str(WebFormSubmission.objects.get().reference) == first.json()["reference"]


def test_a_case_through_json(client, case_form):
    response = post(client, case_form, {"email": "kim@example.com", "message": "Invoice 12 is wrong"})
    assert response.status_code == 201 and Case.objects.get().subject == "Invoice 12 is wrong"


def test_errors_are_returned_per_field(client, lead_form):
    response = post(client, lead_form, {"name": "Ann", "email": "nope"}, HTTP_IDEMPOTENCY_KEY="bad key!")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"email", "idempotency_key"}
    assert not Lead.objects.exists()


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '{"name": {"first": "Ann"}}'])
def test_a_body_that_is_not_an_object_of_values_is_refused(client, lead_form, body):
    response = post(client, lead_form, body)
    assert response.status_code == 400 and "JSON object" in response.json()["detail"]


def test_honeypot_rate_and_size_limits_apply(client, lead_form, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"webform": "3/min"}}
    settings.WEBFORMS_MAX_BODY_BYTES = 200
    bot = post(client, lead_form, {"name": "Bot", "email": "bot@example.com", "website": "x"})
    assert bot.status_code == 201 and bot.json()["reference"] and not Lead.objects.exists()
    oversize = post(client, lead_form, {"name": "A", "email": "a@example.com", "message": "x" * 300})
    assert oversize.status_code == 413 and "too large" in oversize.json()["detail"]
    assert post(client, lead_form, {"name": "A", "email": "a@example.com"}).status_code == 201
    limited = post(client, lead_form, {"name": "B", "email": "b@example.com"})  # the fourth within a minute
    assert limited.status_code == 429 and "Too many submissions" in limited.json()["detail"]
    assert Lead.objects.count() == 1


def test_allowed_sites_may_post_from_the_browser(client, lead_form):
    preflight = client.options(f"/forms/f/{lead_form.key}/json/", HTTP_ORIGIN="https://www.example.com")
    assert preflight.status_code == 204 and preflight["Access-Control-Allow-Origin"] == "https://www.example.com"
    assert "Idempotency-Key" in preflight["Access-Control-Allow-Headers"]
    other = client.options(f"/forms/f/{lead_form.key}/json/", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in other
    refused = post(client, lead_form, {"name": "A", "email": "a@example.com"}, HTTP_ORIGIN="https://evil.example")
    assert refused.status_code == 403


def test_json_nested_too_deeply_is_a_400_not_a_server_error(client, lead_form):
    deep = '{"name": "Ann", "email": "ann@example.com", "x": ' + "[" * 15_000 + "]" * 15_000 + "}"
    assert len(deep) < 32 * 1024  # within the body limit: this is what reaches the parser
    response = post(client, lead_form, deep)
    assert response.status_code == 400 and "Send a JSON object of text values" in response.json()["detail"]
    assert not Lead.objects.exists() and not WebFormSubmission.objects.exists()
