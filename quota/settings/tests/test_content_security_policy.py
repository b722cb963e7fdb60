"""The Content-Security-Policy header (django-csp): strict for Quota's pages, widened only where a page needs it."""

import pytest
from django.test import Client

from quota.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_pages_run_only_quotas_own_scripts_and_stylesheets(client):
    policy = directives(client.get("/login/"))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no inline script, no eval
    assert policy["style-src"] == ["'self'"]  # no inline <style>
    assert policy["style-src-attr"] == ["'unsafe-inline'"]  # style="" attributes (progress bars, admin widgets)
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]


def test_pages_carry_no_inline_event_handlers():
    user = UserFactory(is_staff=True, is_superuser=True, role="admin")
    client = Client()
    client.force_login(user)
    for path in ("/", "/webhooks/", "/forms/new/"):
        html = client.get(path).content.decode()
        assert " onchange=" not in html and " onclick=" not in html, path


def test_the_api_docs_widen_the_policy_for_themselves_only(client):
    client.force_login(UserFactory())  # the API's docs are for signed-in people
    swagger = directives(client.get("/api/docs/"))
    assert swagger["style-src"] == ["'self'", "'unsafe-inline'"] and swagger["script-src"] == ["'self'"]
    start_script = client.get("/api/docs/?script=")
    assert start_script.status_code == 200 and start_script["Content-Type"].startswith("application/javascript")
    redoc = directives(client.get("/api/redoc/"))
    assert redoc["script-src"] == ["'self'", "'unsafe-inline'"] and redoc["worker-src"] == ["blob:"]
