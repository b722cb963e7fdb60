"""No page puts a CSRF token, or what a person is typing, into a URL (and so into server logs).

A GET form or an `hx-get` request sends its fields in the query string. So: a form with
method="get" holds no CSRF token, and no element that requests with GET includes a whole form
(`hx-include` of a form: the mark-lost form once sent its token and the typed note on every change
of the loss reason). State changes are POSTs, which put their fields in the body.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from quota.crm.services import deal_create
from quota.testing.factories import loss_reason

TEMPLATES = sorted(Path(settings.BASE_DIR, "quota").glob("**/templates/**/*.html"))
SOURCES = sorted(p for p in Path(settings.BASE_DIR, "quota").glob("**/*.py") if "tests" not in p.parts)
GET_FORM = re.compile(r"<form\b[^>]*\bmethod=\"get\"[^>]*>.*?</form>", re.S | re.I)
TAG = re.compile(r"<[a-z][^>]*>", re.S | re.I)


def test_the_audit_reads_every_template():
    assert len(TEMPLATES) > 50 and any(p.name == "list.html" for p in TEMPLATES)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(settings.BASE_DIR)))
def test_no_get_form_carries_a_csrf_token(template):
    for form in GET_FORM.findall(template.read_text()):
        assert "csrf_token" not in form and "csrfmiddlewaretoken" not in form, form[:200]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(settings.BASE_DIR)))
def test_no_get_request_includes_a_form(template):
    for tag in TAG.findall(template.read_text()):
        if "hx-get" in tag:
            assert "hx-include" not in tag, tag


def test_no_view_sets_a_get_request_that_includes_a_form():
    for source in SOURCES:
        text = source.read_text()
        if '"hx-get"' in text:
            assert '"hx-include"' not in text, source


@pytest.mark.django_db
def test_changing_the_loss_reason_sends_only_the_reason(client, people, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC), tick=False)
    rep = people["rep"]
    deal = deal_create(by=rep, title="Lose me", owner=rep)
    reason = loss_reason("No budget")  # follows up after 180 days
    client.force_login(rep)
    url = reverse("crm:deal_lose", args=[deal.pk])
    page = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    select = re.search(r"<select[^>]*name=\"loss_reason\"[^>]*>", page).group(0)
    assert f'hx-get="{url}"' in select and "hx-include" not in select
    assert 'hx-select="#id_follow_up_on"' in select and 'hx-target="#id_follow_up_on"' in select
    # What the select sends: its own value in the URL, and the answer holds the proposed date.
    answer = client.get(url, {"loss_reason": reason.pk}, HTTP_HX_REQUEST="true").content.decode()
    follow_up = re.search(r"<input[^>]*id=\"id_follow_up_on\"[^>]*>", answer).group(0)
    assert 'value="2026-09-06"' in follow_up and 'name="follow_up_on"' in follow_up  # 180 days after 10 March
    # The form itself posts, with the token in the body.
    assert re.search(r'<form method="post"[^>]*hx-post=', page) and 'name="csrfmiddlewaretoken"' in page
