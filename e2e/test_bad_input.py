"""In the browser: what a page sends with GET never holds the CSRF token or what a person types.

Picking a loss reason on the mark-lost form proposes the follow-up date. It used to send the whole
form as a GET (the token and the typed note in the URL, and so in the server's log); it now sends
the reason alone and swaps in the date, leaving the note where it was typed.
"""

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from quota.crm.models import LossReason
from quota.crm.services import deal_create

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_changing_the_loss_reason_sends_only_the_reason(page, live_server, rep):
    deal = deal_create(by=rep, title="Fleet vans", owner=rep)
    reason = LossReason.objects.filter(follow_up_after_days__gt=0, is_active=True).first()
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if request.method == "GET" else None)

    log_in(page, live_server.url, "rep")
    page.goto(f"{live_server.url}/crm/deals/{deal.pk}/")
    page.click(f"a[href='/crm/deals/{deal.pk}/lose/']")  # the form loads into the page
    page.fill("#id_note", "They chose the cheaper offer, secret margin 12%")
    with page.expect_response(lambda response: "loss_reason=" in response.url):
        page.select_option("#id_loss_reason", str(reason.pk))
    expected = (timezone.localdate() + dt.timedelta(days=reason.follow_up_after_days)).isoformat()
    page.wait_for_function(f"document.querySelector('#id_follow_up_on').value === '{expected}'")
    assert page.input_value("#id_note") == "They chose the cheaper offer, secret margin 12%"  # kept where it was typed

    reason_request = next(url for url in sent if "loss_reason=" in url)
    assert parse_qs(urlsplit(reason_request).query) == {"loss_reason": [str(reason.pk)]}
    assert not any("csrfmiddlewaretoken" in url or "secret" in url for url in sent)

    with page.expect_navigation():  # the service's success is a redirect back to the deal
        page.click("form.action-form button[type=submit]")
    deal.refresh_from_db()
    assert deal.status == "lost" and deal.loss_reason == reason
