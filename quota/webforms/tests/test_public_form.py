"""The hosted form: what it creates, and how it resists spam and abuse."""

import re

import pytest
from django.core import mail

from quota.crm.models import Lead
from quota.service.models import Case
from quota.testing.factories import CampaignFactory, ContactFactory, lead_source
from quota.webforms import services
from quota.webforms.models import WebFormSubmission

pytestmark = pytest.mark.django_db


def url(webform, query: str = "") -> str:
    return f"/forms/f/{webform.key}/" + (f"?{query}" if query else "")


def rendered_key(response) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', response.content.decode()).group(1)


def test_the_form_renders_embeddable_only_by_the_allowed_origins(client, lead_form):
    response = client.get(url(lead_form, "utm_source=newsletter"))
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert response["Content-Security-Policy"] == "frame-ancestors 'self' https://www.example.com"
    html = response.content.decode()
    assert 'name="email"' in html and 'name="website"' in html and 'value="newsletter"' in html
    assert len(rendered_key(response)) >= 20
    assert "csrftoken" not in response.cookies


def test_a_submission_creates_a_lead_with_its_source_utm_and_campaign(client, lead_form, rep, django_capture_on_commit_callbacks):
    campaign = CampaignFactory(name="Spring Fleet")
    form_page = client.get(url(lead_form, "utm_source=newsletter&utm_campaign=spring+fleet"))
    data = {
        "name": "Ann Marie Lee",
        "email": "ann@example.com",
        "company": "Lee Logistics",
        "message": "Call me",
        "utm_source": "newsletter",
        "utm_campaign": "spring fleet",
        "utm_medium": "email",
        "idempotency_key": rendered_key(form_page),
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(lead_form), data, HTTP_ORIGIN="https://www.example.com")

    assert response.status_code == 200 and "We will call you back within a day." in response.content.decode()
    assert "X-Frame-Options" not in response
    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name, lead.email, lead.company_name) == (
        "Ann Marie",
        "Lee",
        "ann@example.com",
        "Lee Logistics",
    )
    assert lead.source == lead_source("website") and lead.owner == rep and lead.campaign == campaign
    assert lead.utm == {"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "spring fleet"}
    submission = WebFormSubmission.objects.get()
    assert submission.lead == lead and submission.values["message"] == "Call me"


def test_utm_parameters_in_the_address_are_kept_when_the_hidden_fields_are_missing(client, lead_form):
    client.post(url(lead_form, "utm_source=ads&utm_term=crm"), {"name": "Bo", "email": "bo@example.com"})
    assert Lead.objects.get().utm == {"utm_source": "ads", "utm_term": "crm"}


def test_a_case_form_creates_a_case_for_the_known_contact(client, case_form, rep):
    contact = ContactFactory(email="kim@example.com")
    response = client.post(url(case_form), {"email": "KIM@example.com", "message": "Printer jams\nSince Monday."})
    assert response.status_code == 200
    case = Case.objects.get()
    assert (case.subject, case.priority, case.owner, case.channel) == ("Printer jams", "high", rep, "webform")
    assert case.contact == contact and case.company == contact.company
    assert "Since Monday." in case.description and "KIM@example.com" in case.description
    assert not Lead.objects.exists()


def test_the_sender_gets_a_confirmation_email(client, lead_form, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(lead_form), {"name": "Ann", "email": "ann@example.com", "message": "About your fleet offer"})
    [sent] = mail.outbox
    assert sent.to == ["ann@example.com"] and sent.subject == "We have received your message"
    assert "We will call you back within a day." in sent.body
    assert str(WebFormSubmission.objects.get().reference) in sent.body
    assert "About your fleet offer" not in sent.body  # a public form must not relay text to any address typed in


def test_a_filled_honeypot_looks_like_success_but_creates_nothing(client, lead_form, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(lead_form), {"name": "Bot", "email": "bot@example.com", "website": "http://spam.example"})
    assert response.status_code == 200 and "We will call you back within a day." in response.content.decode()
    assert not Lead.objects.exists() and not WebFormSubmission.objects.exists() and mail.outbox == []


def test_a_double_submit_with_the_same_key_creates_one_lead(client, lead_form, django_capture_on_commit_callbacks):
    data = {"name": "Ann", "email": "ann@example.com", "idempotency_key": rendered_key(client.get(url(lead_form)))}
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url(lead_form), data)
        second = client.post(url(lead_form), {**data, "name": "Ann (again)"})
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert Lead.objects.count() == 1 == WebFormSubmission.objects.count() and len(mail.outbox) == 1
    client.post(url(lead_form), {**data, "idempotency_key": "another-page-view"})
    assert Lead.objects.count() == 2


def test_a_racing_double_submit_is_stopped_by_the_unique_constraint(lead_form, monkeypatch):
    first = services.submission_receive(webform=lead_form, values={"email": "a@example.com"}, utm={}, idempotency_key="k1")
    # The second request looked before the first one committed, so its lookup found nothing.
    real_lookup = services._earlier_submission
    lookups = iter([None])
    monkeypatch.setattr(services, "_earlier_submission", lambda *args: next(lookups, None) or real_lookup(*args))

    second = services.submission_receive(webform=lead_form, values={"email": "a@example.com"}, utm={}, idempotency_key="k1")
    assert second.replayed and second.submission == first.submission
    assert Lead.objects.count() == 1 == WebFormSubmission.objects.count()


def test_without_a_key_an_identical_resubmission_counts_once(client, lead_form):
    data = {"name": "Ann", "email": "ann@example.com"}
    client.post(url(lead_form), data)
    client.post(url(lead_form), data)
    client.post(url(lead_form), {**data, "message": "Something else"})
    assert Lead.objects.count() == 2


def test_an_invalid_email_is_shown_next_to_the_field_with_the_values_kept(client, lead_form):
    response = client.post(url(lead_form), {"name": "Ann <b>Lee</b>", "email": "ann-at-example", "company": "Lee Logistics"})
    html = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'id="id_email_error"[^>]*>.*valid email address', html, re.S)
    assert 'value="ann-at-example"' in html and 'value="Lee Logistics"' in html
    assert 'value="Ann &lt;b&gt;Lee&lt;/b&gt;"' in html
    assert not Lead.objects.exists()


def test_a_missing_required_field_and_a_too_long_field_are_refused(client, lead_form):
    missing = client.post(url(lead_form), {"email": "ann@example.com"})
    assert missing.status_code == 400 and "This field is required." in missing.content.decode()
    too_long = client.post(url(lead_form), {"name": "A" * 201, "email": "ann@example.com"})
    assert too_long.status_code == 400 and "at most 200 characters" in too_long.content.decode()
    assert not Lead.objects.exists()


def test_the_rate_limit_answers_429_per_address(client, lead_form, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"webform": "3/min"}}
    statuses = [
        client.post(url(lead_form), {"name": "Ann", "email": f"a{n}@example.com"}, REMOTE_ADDR="203.0.113.5").status_code
        for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    refused = client.post(url(lead_form), {"name": "Ann", "email": "x@example.com"}, REMOTE_ADDR="203.0.113.5")
    assert "Too many submissions" in refused.content.decode() and int(refused["Retry-After"]) > 0
    assert client.post(url(lead_form), {"name": "Bo", "email": "bo@example.com"}, REMOTE_ADDR="203.0.113.6").status_code == 200
    assert Lead.objects.count() == 4


def test_an_oversize_body_is_refused_before_it_is_read(client, lead_form, settings):
    settings.WEBFORMS_MAX_BODY_BYTES = 1000
    response = client.post(url(lead_form), {"name": "Ann", "email": "ann@example.com", "message": "x" * 2000})
    assert response.status_code == 413 and "too large" in response.content.decode()
    assert not Lead.objects.exists()


def test_a_post_from_a_site_not_allowed_is_refused(client, lead_form):
    response = client.post(url(lead_form), {"name": "Ann", "email": "ann@example.com"}, HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403 and not Lead.objects.exists()
    own = client.post(url(lead_form), {"name": "Ann", "email": "ann@example.com"}, HTTP_ORIGIN="http://testserver")
    assert own.status_code == 200


def test_an_inactive_or_unknown_form_is_not_found(client, lead_form):
    services.webform_update(webform=lead_form, by=None, data={"is_active": False})
    assert client.get(url(lead_form)).status_code == 404
    assert client.post(url(lead_form), {"name": "Ann", "email": "ann@example.com"}).status_code == 404
    assert client.get("/forms/f/not-a-key/").status_code == 404
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    ("proxies", "meta", "expected"),
    [
        (0, {"REMOTE_ADDR": "198.51.100.7", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}, "198.51.100.7"),
        (1, {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "10.0.0.1, 203.0.113.9"}, "203.0.113.9"),
        (2, {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}, "127.0.0.1"),  # fewer entries than proxies
        (0, {}, "unknown"),
    ],
)
def test_a_senders_address_counts_the_web_forms_own_proxies(settings, proxies, meta, expected):
    from django.test import RequestFactory

    from quota.webforms.protection import client_ip

    settings.WEBFORMS_PROXY_COUNT, settings.TRUSTED_PROXY_COUNT = proxies, 5  # the lockout's count is not the forms'
    request = RequestFactory().get("/")
    request.META.pop("REMOTE_ADDR", None)
    request.META.update(meta)
    assert client_ip(request) == expected
