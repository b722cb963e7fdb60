"""Entries in words: related records by name with one query per kind, choices by label, and gone records by id."""

from __future__ import annotations

from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext

from quota.audit.selectors import audited_content_types, describe, field_choices, history_of
from quota.crm import services as crm
from quota.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_related_records_are_named_with_one_query_per_kind_however_many_entries(people):
    director = people["director"]
    for number in range(12):
        deal = crm.deal_create(by=director, title=f"Deal {number}", owner=people["rep"], amount=Decimal("1"))
        crm.deal_update(deal=deal, by=director, data={"owner": people["teammate"]})
    entries = list(LogEntry.objects.filter(content_type__model="deal").select_related("actor"))
    audited_content_types()  # cached for the process, as in a running server
    with CaptureQueriesContext(connection) as queries:
        described = describe(entries)
    assert len(queries.captured_queries) == 2  # the people, the stages
    handed_over = [c for e in described for c in e.changes if e.action_key == "update"]
    assert len(handed_over) == 12
    assert {(c.old_text, c.new_text) for c in handed_over} == {(str(people["rep"]), str(people["teammate"]))}


def test_choices_by_label_flags_in_words_and_a_deleted_person_by_id(people):
    leaver = UserFactory(username="leaver")
    deal = crm.deal_create(by=None, title="Handover", owner=leaver, amount=Decimal("1"))
    leaver_id = leaver.pk
    deal.owner = people["rep"]
    deal.save()
    leaver.delete()
    newest = history_of(deal)[0]
    assert (newest.changes[0].field, newest.changes[0].old_text, newest.changes[0].new_text) == (
        "owner",
        f"#{leaver_id}",
        str(people["rep"]),
    )
    created = {c.field: c for c in history_of(deal)[-1].changes}
    assert created["status"].new_text == "Open" and created["currency"].new_text == "EUR"
    people["rep"].is_active = False
    people["rep"].save()
    flag = history_of(people["rep"])[0].changes[0]
    assert (flag.field, flag.old_text, flag.new_text) == ("is_active", "Yes", "No")


def test_every_audited_field_can_be_filtered_on_once():
    choices = dict(field_choices())
    assert {
        "amount",
        "owner",
        "stage",
        "status",
        "expected_close_date",
        "value",
        "role",
        "is_active",
        "definition",
    } <= choices.keys()
    assert choices["owner"].startswith("Owner (") and "deal" in choices["owner"] and "company" in choices["owner"]
