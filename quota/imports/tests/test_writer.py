"""The writer and the audit trail: updated rows get an entry each for their audited fields, new rows a summary."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.db import DatabaseError

from quota.accounts.models import Role, Team, User
from quota.crm.models import Deal
from quota.imports.engine import ImportOptions
from quota.imports.mapping import StepMapping
from quota.imports.models import ImportRun
from quota.imports.services import import_file
from quota.imports.tests.helpers import DEAL_COLUMNS, DEAL_MAPPING
from quota.testing.audit import recorded
from quota.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def people(ann_at_acme):
    return ann_at_acme


@pytest.fixture
def director():
    return UserFactory(username="dora", role=Role.DIRECTOR)


def deal_row(number: int, *, amount: str = "100", status: str = "won") -> list[str]:
    closed = "" if status == "open" else "2024-02-10"
    return [f"D{number}", f"Deal {number}", "rep1", "Acme", "Proposal", status, "2024-01-10", closed, amount, ""]


def run(path, **options):
    return import_file(path, mapping=DEAL_MAPPING, options=ImportOptions(**options))


def deal_entries() -> int:
    return LogEntry.objects.filter(content_type__model="deal").count()


def test_new_rows_are_summed_up_by_the_runs_entry_not_one_entry_each(write_csv, director):
    report = run(write_csv("deals.csv", [DEAL_COLUMNS, deal_row(1), deal_row(2), deal_row(3, status="open")]), by=director)
    assert report.ok and report.totals()["created"] == 3
    assert deal_entries() == 0  # bulk inserted: no entry per deal
    summary = recorded(ImportRun.objects.get())
    assert ("create", "created", None, 3, "dora") in summary and ("create", "updated", None, 0, "dora") in summary


def test_updated_rows_record_their_audited_changes_by_the_importer(write_csv, director):
    run(write_csv("deals.csv", [DEAL_COLUMNS, deal_row(1), deal_row(2, status="open")]), by=director)
    rows = [DEAL_COLUMNS, deal_row(1, amount="900"), deal_row(2, status="open"), deal_row(3)]
    report = run(write_csv("more.csv", rows), by=director, on_duplicate="update")
    assert report.ok and (report.totals()["created"], report.totals()["updated"]) == (1, 1)
    assert recorded(Deal.objects.get(external_id="D1")) == [("update", "amount", "100.00", "900.00", "dora")]
    assert recorded(Deal.objects.get(external_id="D2")) == []  # unchanged
    assert recorded(Deal.objects.get(external_id="D3")) == []  # new: in the run's summary
    assert recorded(ImportRun.objects.latest("started_at"), "updated") == [("create", "updated", None, 1, "dora")]


def test_rows_saved_one_by_one_after_a_refused_batch_are_recorded_once(write_csv, director, monkeypatch):
    run(write_csv("deals.csv", [DEAL_COLUMNS, deal_row(1), deal_row(2)]), by=director)

    def refuse(*args, **kwargs):
        raise DatabaseError("refused")

    monkeypatch.setattr(Deal._default_manager, "bulk_update", refuse)  # the writer retries row by row (signals)
    run(
        write_csv("more.csv", [DEAL_COLUMNS, deal_row(1, amount="900"), deal_row(2, amount="5")]),
        by=director,
        on_duplicate="update",
    )
    assert recorded(Deal.objects.get(external_id="D1")) == [("update", "amount", "100.00", "900.00", "dora")]
    assert recorded(Deal.objects.get(external_id="D2")) == [("update", "amount", "100.00", "5.00", "dora")]


def test_a_dry_run_or_a_refused_import_leaves_no_entries(write_csv, director):
    run(write_csv("deals.csv", [DEAL_COLUMNS, deal_row(1)]), by=director)
    before = LogEntry.objects.count()
    run(write_csv("dry.csv", [DEAL_COLUMNS, deal_row(1, amount="900")]), by=director, on_duplicate="update", dry_run=True)
    run(write_csv("bad.csv", [DEAL_COLUMNS, deal_row(1, amount="900"), deal_row(2, amount="-1")]), on_duplicate="update")
    assert recorded(Deal.objects.get(external_id="D1")) == []
    assert LogEntry.objects.count() == before + 1  # the failed run's own record, by nobody
    assert recorded(ImportRun.objects.latest("started_at"), "status") == [("create", "status", None, "failed", None)]


def test_a_users_import_that_changes_roles_and_teams_is_recorded(write_csv, director):
    north, south = Team.objects.create(name="North"), Team.objects.create(name="South")
    UserFactory(username="kim", email="kim@example.com", role=Role.REP, team=north)
    mapping = StepMapping.from_dict({"into": "users", "fields": {"email": "email", "role": "role", "team": "team"}})
    path = write_csv("people.csv", [["email", "role", "team"], ["kim@example.com", "manager", "South"]])
    report = import_file(path, mapping=mapping, options=ImportOptions(by=director, on_duplicate="update"))
    assert report.ok, report.as_dict()
    kim = User.objects.get(username="kim")
    assert sorted(change for change in recorded(kim) if change[0] == "update") == [
        ("update", "role", "rep", "manager", "dora"),
        ("update", "team", north.pk, south.pk, "dora"),
    ]
