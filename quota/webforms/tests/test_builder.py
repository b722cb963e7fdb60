"""The builder pages: who may build forms, the settings they choose, and the snippets to paste."""

import pytest

from quota.accounts.models import Role
from quota.testing.factories import UserFactory, lead_source
from quota.webforms.models import WebForm

pytestmark = pytest.mark.django_db


def builder_data(**overrides):
    data = {
        "name": "Fleet enquiries",
        "target": "lead",
        "source": lead_source("website").pk,
        "case_priority": "normal",
        "thank_you_message": "Thanks!",
        "allowed_origins": "https://www.example.com/\nHTTPS://shop.example.com:8443",
        "is_active": "on",
        "ask_name": "required",
        "ask_email": "required",
        "ask_phone": "optional",
    }
    return {**data, **overrides}


@pytest.mark.parametrize("role", [Role.ADMIN, Role.DIRECTOR, Role.MARKETING])
def test_builders_create_a_form_and_get_the_snippets(client, role):
    user = UserFactory(role=role)
    client.force_login(user)
    response = client.post("/forms/new/", builder_data())
    webform = WebForm.objects.get()
    assert response.status_code == 302 and response.url == f"/forms/{webform.pk}/"
    assert webform.asked_fields == [
        {"name": "name", "required": True},
        {"name": "email", "required": True},
        {"name": "phone", "required": False},
    ]
    assert webform.allowed_origins == ["https://www.example.com", "https://shop.example.com:8443"]
    assert webform.created_by == user and len(webform.key) >= 20

    page = client.get(f"/forms/{webform.pk}/").content.decode()
    assert f"/forms/f/{webform.key}/" in page and "&lt;iframe" in page and "&lt;form" in page
    assert "idempotency_key" in page and "utm_source" in page
    assert "Fleet enquiries" in client.get("/forms/").content.decode()


def test_the_builder_explains_what_is_wrong(client):
    client.force_login(UserFactory(role=Role.MARKETING))
    response = client.post(
        "/forms/new/", builder_data(source="", ask_email="", ask_phone="", allowed_origins="www.example.com/contact")
    )
    html = response.content.decode()
    assert response.status_code == 200 and not WebForm.objects.exists()
    assert "Choose the lead source" in html and "Ask for an e-mail or a phone number" in html
    assert "is not an origin" in html


def test_a_builder_changes_a_form(client, lead_form):
    client.force_login(UserFactory(role=Role.DIRECTOR))
    response = client.post(
        f"/forms/{lead_form.pk}/", builder_data(name="Renamed", target="case", source="", ask_message="required")
    )
    assert response.status_code == 302
    lead_form.refresh_from_db()
    assert (lead_form.name, lead_form.target) == ("Renamed", "case")
    assert [f["name"] for f in lead_form.asked_fields] == ["name", "email", "phone", "message"]


@pytest.mark.parametrize("role", [Role.REP, Role.MANAGER, Role.SERVICE, Role.VIEWER])
def test_other_roles_may_not_build_forms(client, role, lead_form):
    client.force_login(UserFactory(role=role))
    assert client.get("/forms/").status_code == 403
    assert client.post("/forms/new/", builder_data()).status_code == 403
    assert client.get(f"/forms/{lead_form.pk}/").status_code == 403
