"""Dry run, all-or-nothing, skipping bad rows, duplicates (skip or merge) and the stage history of updates."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from quota.crm.models import Company, Contact, Deal, DealStageChange, Lead
from quota.imports.engine import ImportOptions
from quota.imports.mapping import StepMapping
from quota.imports.models import ImportRun
from quota.imports.services import import_file
from quota.imports.tests.helpers import DEAL_COLUMNS, DEAL_MAPPING, groups
from quota.sales.models import Product
from quota.testing.factories import UserFactory

pytestmark = pytest.mark.django_db

HEADER = DEAL_COLUMNS
GOOD_ROWS = [
    ["D1", "Laptops", "rep1", "Acme", "Qualification", "open", "2024-01-10", "", "1000", ""],
    ["D2", "Servers", "Ann Rep", "acme", "Proposal", "Won", "2024-01-11", "2024-02-01", "5000", ""],
    ["D3", "Printers", "rep1", "Acme", "Negotiation", "lost", "2024-01-12", "2024-02-02", "0", "Price too high"],
]
DEALS = DEAL_MAPPING


@pytest.fixture(autouse=True)
def people(ann_at_acme):
    return ann_at_acme


def run(path, *, mapping=DEALS, **options):
    return import_file(path, mapping=mapping, options=ImportOptions(**options))


def test_a_dry_run_checks_everything_and_writes_nothing(write_csv):
    report = run(write_csv("deals.csv", [HEADER, *GOOD_ROWS]), dry_run=True)
    assert report.ok and report.status == "checked"
    assert report.totals()["created"] == 3
    assert not Deal.objects.exists() and not DealStageChange.objects.exists() and not ImportRun.objects.exists()


def test_a_commit_writes_the_deals_and_their_history(write_csv, people):
    report = run(write_csv("deals.csv", [HEADER, *GOOD_ROWS]))
    assert report.ok and report.totals()["created"] == 3
    won = Deal.objects.get(external_id="D2")
    assert (won.owner, won.company.name, won.stage.name, won.status) == (people, "Acme", "Proposal", "won")
    assert list(won.stage_changes.values_list("from_status", "to_status")) == [("", "open"), ("open", "won")]
    assert Deal.objects.get(external_id="D3").loss_reason.name == "Price too high"
    assert ImportRun.objects.get().created == 3


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("created", "2024-02-30", "not a real date"),
        ("amount", "-5", "cannot be negative"),
        ("stage", "Closing", "no stage 'Closing' in Sales"),
        ("owner", "Anna Rep", "did you mean 'Ann Rep'?"),
        ("closed", "2023-12-01", "cannot close before it was created"),
    ],
)
def test_one_bad_row_commits_nothing_and_the_report_names_it(write_csv, column, value, message):
    bad = list(GOOD_ROWS[1])
    bad[HEADER.index(column)] = value
    report = run(write_csv("deals.csv", [HEADER, GOOD_ROWS[0], bad, GOOD_ROWS[2]]))
    assert not report.ok and report.status == "failed"
    assert not Deal.objects.exists() and not DealStageChange.objects.exists()
    errors = [g for g in report.problems.ordered() if g.severity == "error"]
    assert len(errors) == 1 and errors[0].column == column
    assert errors[0].examples[0].row == 3 and message in errors[0].examples[0].message
    assert f"row 3, {column}" in report.reason and "nothing was imported" in report.reason
    assert ImportRun.objects.get().status == "failed"


def test_skipping_bad_rows_imports_the_rest(write_csv):
    bad = ["D9", "Broken", "rep1", "Acme", "Proposal", "won", "2024-01-11", "", "10", ""]  # won without a close date
    report = run(write_csv("deals.csv", [HEADER, *GOOD_ROWS, bad]), skip_bad_rows=True)
    assert report.ok and report.totals()["created"] == 3 and report.totals()["rejected"] == 1
    (error,) = groups(report, "invalid_record")
    assert (error.examples[0].row, error.column) == (5, "closed")
    assert set(Deal.objects.values_list("external_id", flat=True)) == {"D1", "D2", "D3"}


def test_columns_are_checked_before_any_row(write_csv):
    mapping = StepMapping.from_dict({"into": "deals", "fields": {"external_id": "id", "amount": "value", "colour": "title"}})
    report = run(write_csv("deals.csv", [HEADER, *GOOD_ROWS]), mapping=mapping)
    assert not report.ok and report.steps[0].rows == 0
    kinds = {g.kind for g in report.problems.groups.values()}
    assert {"missing_column", "unknown_field", "unmapped_required_field"} <= kinds
    assert "column 'value' is not in the file" in report.reason


def test_reimporting_the_same_file_creates_nothing(write_csv):
    path = write_csv("deals.csv", [HEADER, *GOOD_ROWS])
    run(path)
    again = run(path)
    assert again.ok and again.totals()["created"] == 0 and again.totals()["skipped"] == 3
    merged = run(path, on_duplicate="update")
    assert merged.totals()["unchanged"] == 3 and merged.totals()["updated"] == 0
    assert Deal.objects.count() == 3 and DealStageChange.objects.count() == 5


def test_updates_merge_the_file_into_the_records_and_record_the_moves(write_csv):
    run(write_csv("deals.csv", [HEADER, *GOOD_ROWS]))
    moved = ["D1", "Laptops", "rep1", "Acme", "Proposal", "open", "2024-01-10", "", "", ""]  # blank amount: kept
    closed = ["D1b", "Tablets", "rep1", "Acme", "Qualification", "open", "2024-01-15", "", "700", ""]
    report = run(write_csv("more.csv", [HEADER, moved, GOOD_ROWS[1], closed]), on_duplicate="update")
    assert report.ok
    assert (report.totals()["updated"], report.totals()["unchanged"], report.totals()["created"]) == (1, 1, 1)
    deal = Deal.objects.get(external_id="D1")
    assert (deal.stage.name, deal.amount) == ("Proposal", 1000)
    last = deal.stage_changes.order_by("-changed_at", "-id").first()
    assert (last.from_stage.name, last.to_stage.name, last.to_status) == ("Qualification", "Proposal", "open")

    won_later = ["D1", "Laptops", "rep1", "Acme", "Proposal", "won", "2024-01-10", "2024-03-01", "1200", ""]
    run(write_csv("won.csv", [HEADER, won_later]), on_duplicate="update")
    deal.refresh_from_db()
    assert (deal.status, deal.amount, deal.closed_at.date().isoformat()) == ("won", 1200, "2024-03-01")
    last = deal.stage_changes.order_by("-id").first()  # the move before was recorded at import time
    assert (last.from_status, last.to_status, last.changed_at) == ("open", "won", deal.closed_at)


def test_a_row_repeated_in_the_file_is_one_record(write_csv):
    later = ["D1", "Laptops", "rep1", "Acme", "Qualification", "open", "2024-01-10", "", "1500", ""]
    skipped = run(write_csv("twice.csv", [HEADER, GOOD_ROWS[0], later]))
    assert skipped.totals()["created"] == 1 and skipped.totals()["skipped"] == 1
    assert Deal.objects.get().amount == 1000
    Deal.objects.all().delete()
    merged = run(write_csv("twice.csv", [HEADER, GOOD_ROWS[0], later]), on_duplicate="update")
    assert merged.totals()["created"] == 1 and merged.totals()["updated"] == 1
    assert Deal.objects.get().amount == 1500 and DealStageChange.objects.count() == 1


def test_companies_are_found_by_domain_or_name_and_contacts_by_email(write_csv, people):
    Company.objects.filter(name="Acme").update(domain="acme.com")
    companies = StepMapping.from_dict({"into": "companies", "fields": {"name": "Name", "domain": "Web"}})
    rows = [["Name", "Web"], ["ACME Inc", "https://www.Acme.com/about"], ["acme", ""], ["Globex", "globex.com"]]
    report = run(write_csv("companies.csv", rows), mapping=companies)
    assert (report.totals()["skipped"], report.totals()["created"]) == (2, 1)
    assert Company.objects.get(name="Globex").domain == "globex.com"

    contacts = StepMapping.from_dict({"into": "contacts", "fields": {"name": "Who", "email": "Mail", "company": "Firm"}})
    rows = [["Who", "Mail", "Firm"], ["Jan Kowalski", "jan@acme.com", "Acme"], ["J. Kowalski", "JAN@ACME.COM", "Acme"]]
    report = run(write_csv("contacts.csv", rows), mapping=contacts)
    assert (report.totals()["created"], report.totals()["skipped"]) == (1, 1)
    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name, contact.company.name) == ("Jan", "Kowalski", "Acme")


def test_a_rule_only_the_database_checks_is_reported_on_its_row(write_csv):
    products = StepMapping.from_dict({"into": "products", "fields": {"name": "Name", "price": "Price"}})
    rows = [["Name", "Price"], ["Mouse", "20"], ["Broken", "-1"], ["Keyboard", "35"]]
    report = run(write_csv("products.csv", rows), mapping=products, skip_bad_rows=True)
    (refused,) = groups(report, "refused_by_database")
    assert (refused.examples[0].row, refused.column) == (3, "Price")
    assert refused.examples[0].message == "list price -1.00 is less than 0"  # the rule in words, not its name
    assert set(Product.objects.values_list("name", flat=True)) == {"Mouse", "Keyboard"}


def test_leads_find_their_source_by_key_or_name_and_get_a_title(write_csv):
    leads = StepMapping.from_dict(
        {"into": "leads", "fields": {"name": "Name", "email": "Mail", "source": "From", "status": "State", "owner": "Rep"}}
    )
    rows = [
        ["Name", "Mail", "From", "State", "Rep"],
        ["Ewa Nowak", "ewa@example.com", "website", "Qualified", "rep1"],
        ["Li Wei", "li@example.com", "Social media", "", "Ann Rep"],
        ["Bob", "bob@example.com", "Carrier pigeon", "open", ""],
    ]
    report = run(write_csv("leads.csv", rows), mapping=leads, skip_bad_rows=True)
    assert report.totals()["created"] == 2 and report.totals()["rejected"] == 1
    ewa = Lead.objects.get(email="ewa@example.com")
    assert (ewa.title, ewa.first_name, ewa.last_name) == ("Ewa Nowak", "Ewa", "Nowak")
    assert (ewa.source.key, ewa.status) == ("website", "qualified")
    assert Lead.objects.get(email="li@example.com").source.key == "social"
    (missing,) = groups(report, "not_found")
    assert (missing.column, missing.examples[0].row) == ("From", 4)


def test_only_administrators_and_directors_may_import(write_csv, people):
    with pytest.raises(PermissionDenied):
        import_file(write_csv("deals.csv", [HEADER, *GOOD_ROWS]), mapping=DEALS, options=ImportOptions(by=people))
    director = UserFactory(role="director")
    report = import_file(write_csv("deals.csv", [HEADER, *GOOD_ROWS]), mapping=DEALS, options=ImportOptions(by=director))
    assert report.ok and ImportRun.objects.get().by == director
    assert DealStageChange.objects.filter(changed_by=director).count() == 5
