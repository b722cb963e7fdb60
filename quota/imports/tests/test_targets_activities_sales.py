"""Activities, orders and invoices through the import engine: dry run, commit, bad rows, duplicates, the pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from quota.accounts.models import Role
from quota.activities.models import Activity
from quota.core.models import ExchangeRate
from quota.imports.engine import ImportOptions
from quota.imports.mapping import StepMapping
from quota.imports.services import import_file
from quota.imports.targets.activities import parse_duration
from quota.imports.tests.helpers import groups
from quota.imports.tests.test_pages import csv_bytes, initial_choices, job_of, run_dry, upload
from quota.sales.models import Invoice, Order
from quota.testing.factories import CompanyFactory, ContactFactory, DealFactory, UserFactory

pytestmark = pytest.mark.django_db


def at(text: str) -> dt.datetime:
    """A moment as the import reads one: naive means the company's time zone."""
    return timezone.make_aware(dt.datetime.fromisoformat(text))


@pytest.fixture(autouse=True)
def world():
    rep = UserFactory(username="rep1", first_name="Ann", last_name="Rep", email="ann@example.com")
    acme = CompanyFactory(name="Acme", domain="acme.com", external_id="C-1", owner=rep)
    jan = ContactFactory(first_name="Jan", last_name="Kowalski", email="jan@acme.com", company=acme, owner=rep)
    deal = DealFactory(external_id="D1", owner=rep, company=acme, contact=jan)
    return {"rep": rep, "acme": acme, "jan": jan, "deal": deal}


def run(path: Path, mapping: StepMapping, **options):
    return import_file(path, mapping=mapping, options=ImportOptions(**options))


def only_error(report):
    errors = [g for g in report.problems.ordered() if g.severity == "error"]
    assert len(errors) == 1, [(g.kind, g.column, g.examples[0].message) for g in errors]
    return errors[0]


# ------------------------------------------------------------------------------------------ activities

ACTIVITY_HEADER = ["Id", "Type", "Subject", "Owner", "Deal", "Contact", "Company", "Date", "Direction", "Answered"]
ACTIVITY_HEADER += ["Minutes", "Held", "Due", "Done"]
ACTIVITY_ROWS = [
    ["A1", "Call", "Intro call", "rep1", "D1", "", "", "2024-03-01 10:00", "out", "yes", "12.5", "", "", ""],
    ["A2", "e-mail", "Offer sent", "ann@example.com", "", "jan@acme.com", "", "2024-03-02 09:00", "Inbound", "", "", "", "", ""],
    ["A3", "meeting", "Demo", "Ann Rep", "", "", "acme.com", "2024-03-03 14:00", "", "", "60", "yes", "", ""],
    ["A4", "Task", "Send contract", "rep1", "D1", "", "", "", "", "", "", "", "2024-03-05", "yes"],
    ["A5", "task", "Follow up", "rep1", "", "", "C-1", "", "", "", "", "", "2024-03-10", "no"],
]
ACTIVITIES = StepMapping.from_dict(
    {
        "into": "activities",
        "fields": {
            "external_id": "Id",
            "kind": "Type",
            "subject": "Subject",
            "owner": "Owner",
            "deal": "Deal",
            "contact": "Contact",
            "company": "Company",
            "occurred_at": "Date",
            "direction": "Direction",
            "answered": "Answered",
            "duration_minutes": "Minutes",
            "held": "Held",
            "due_at": "Due",
            "done": "Done",
        },
    }
)


def activity(external_id: str) -> tuple:
    a = Activity.objects.get(external_id=external_id)
    return (
        a.kind,
        a.subject,
        a.owner.username if a.owner else None,
        a.deal.external_id if a.deal else None,
        a.contact.email if a.contact else None,
        a.company.name if a.company else None,
        a.occurred_at,
        a.direction,
        a.answered,
        a.duration_seconds,
        a.held,
        a.completed_at,
    )


def test_activities_dry_run_then_commit(write_csv):
    path = write_csv("activities.csv", [ACTIVITY_HEADER, *ACTIVITY_ROWS])
    checked = run(path, ACTIVITIES, dry_run=True)
    assert checked.ok and checked.status == "checked", checked.reason
    assert checked.totals()["created"] == 5 and not Activity.objects.exists()

    report = run(path, ACTIVITIES)
    assert report.ok and report.totals()["created"] == 5, report.reason
    # A call on a deal is also about the deal's contact and company; 12.5 minutes are 750 seconds.
    assert activity("A1") == (
        "call", "Intro call", "rep1", "D1", "jan@acme.com", "Acme", at("2024-03-01 10:00"), "out", True, 750, None, None
    )  # fmt: skip
    # Owner by e-mail; an e-mail to a contact is about the contact's company.
    assert activity("A2") == (
        "email", "Offer sent", "rep1", None, "jan@acme.com", "Acme", at("2024-03-02 09:00"), "in", None, None, None, None
    )  # fmt: skip
    # Owner by full name, company by web domain, an hour in minutes.
    assert activity("A3") == (
        "meeting", "Demo", "rep1", None, None, "Acme", at("2024-03-03 14:00"), "", None, 3600, True, None
    )  # fmt: skip
    # A task's date is its due date; done with no completion time: completed when due, and said so.
    due = at("2024-03-05 00:00")
    assert activity("A4") == ("task", "Send contract", "rep1", "D1", "jan@acme.com", "Acme", due, "", None, None, None, due)
    (done,) = groups(report, "default_used", column="Done")
    assert done.examples[0].row == 5 and "completed when it was due" in done.examples[0].message
    # Company by external id; not done stays open.
    assert activity("A5")[5:] == ("Acme", at("2024-03-10 00:00"), "", None, None, None, None)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("Owner", "Anna Rep", "did you mean 'Ann Rep'?"),
        ("Date", "2024-02-30 10:00", "not a real date"),
        ("Type", "fax", "expected one of: call, email, meeting, task"),
        ("Minutes", "-5", "greater than or equal to 0"),
        ("Direction", "", "Say whether it was inbound or outbound."),
        ("Deal", "D404", "there is no deal 'D404'"),
    ],
)
def test_a_bad_activity_row_is_reported_and_nothing_is_written(write_csv, column, value, message):
    bad = list(ACTIVITY_ROWS[1])
    bad[ACTIVITY_HEADER.index("Type")] = "call"  # the second row made a call, so each rule applies
    bad[ACTIVITY_HEADER.index(column)] = value
    report = run(write_csv("activities.csv", [ACTIVITY_HEADER, ACTIVITY_ROWS[0], bad, *ACTIVITY_ROWS[2:]]), ACTIVITIES)
    assert not report.ok and report.status == "failed"
    assert not Activity.objects.exists()
    error = only_error(report)
    assert (error.column, error.examples[0].row, error.examples[0].value or "") == (column, 3, value)
    assert message in error.examples[0].message
    assert f"row 3, {column}" in report.reason and "nothing was imported" in report.reason


def test_a_rule_on_a_derived_field_names_the_column_it_came_from(write_csv):
    unanswered = list(ACTIVITY_ROWS[0])
    unanswered[ACTIVITY_HEADER.index("Answered")] = "no"  # ... with 12.5 minutes of talk
    report = run(write_csv("activities.csv", [ACTIVITY_HEADER, unanswered]), ACTIVITIES)
    error = only_error(report)
    assert (error.column, error.examples[0].value) == ("Minutes", "12.5")
    assert "An unanswered call has no talk time." in error.examples[0].message

    no_date = list(ACTIVITY_ROWS[4])
    no_date[ACTIVITY_HEADER.index("Due")] = ""
    report = run(write_csv("activities.csv", [ACTIVITY_HEADER, no_date]), ACTIVITIES)
    error = only_error(report)
    assert error.kind == "required_blank" and error.column == "Date" and "needs its date" in error.examples[0].message
    assert not Activity.objects.exists()


def test_reimporting_activities_creates_nothing_and_updates_change_them(write_csv):
    path = write_csv("activities.csv", [ACTIVITY_HEADER, *ACTIVITY_ROWS])
    run(path, ACTIVITIES)
    again = run(path, ACTIVITIES)
    assert again.ok and again.totals()["created"] == 0 and again.totals()["skipped"] == 5
    merged = run(path, ACTIVITIES, on_duplicate="update")
    assert merged.ok and (merged.totals()["unchanged"], merged.totals()["updated"]) == (5, 0)
    assert Activity.objects.count() == 5

    # The source system's ids in another letter case; a longer call, and the open task done.
    longer = ["a1", "Call", "Intro call", "rep1", "D1", "", "", "2024-03-01 10:00", "out", "yes", "20", "", "", ""]
    done = ["A5", "task", "Follow up", "rep1", "", "", "", "", "", "", "", "", "", "yes"]
    report = run(write_csv("changes.csv", [ACTIVITY_HEADER, longer, done]), ACTIVITIES, on_duplicate="update")
    assert report.ok and report.totals()["updated"] == 2 and report.totals()["created"] == 0, report.reason
    assert Activity.objects.get(external_id__iexact="a1").duration_seconds == 1200
    task = Activity.objects.get(external_id="A5")
    assert task.completed_at == at("2024-03-10 00:00") and task.company.name == "Acme"  # blank cells keep values
    assert Activity.objects.count() == 5


@pytest.mark.parametrize(
    ("written", "seconds"),
    [("1:05:30", 3930), ("12 min", 720), ("1h 30m", 5400), ("45s", 45), ("2,5 min", 150), ("0:00:07", 7)],
)
def test_a_written_duration_is_read_in_seconds(written, seconds):
    assert parse_duration(written) == seconds


def test_an_ambiguous_or_unitless_duration_is_refused(write_csv):
    mapping = StepMapping.from_dict(
        {"into": "activities", "fields": {"kind": "Type", "occurred_at": "Date", "direction": "Dir", "duration": "Length"}}
    )
    rows = [["Type", "Date", "Dir", "Length"], ["call", "2024-03-01", "out", "12:30"], ["call", "2024-03-01", "out", "90"]]
    report = run(write_csv("calls.csv", rows), mapping, skip_bad_rows=True)
    (bad,) = groups(report, "invalid_value", column="Length")
    assert bad.rows == 2
    messages = [e.message for e in bad.examples]
    assert "write h:mm:ss (0:12:30) or 12m 30s" in messages[0] and "say the unit" in messages[1]
    assert not Activity.objects.exists()


# ------------------------------------------------------------------------------------------ orders and invoices

ORDER_HEADER = ["Number", "Customer", "Deal", "Rep", "Status", "Amount", "Cost", "Currency", "Ordered", "Ref"]
ORDER_ROWS = [
    ["O-1", "Acme", "D1", "rep1", "Fulfilled", "1,000.00", "600", "EUR", "2024-03-01", "X1"],
    ["O-2", "", "D1", "Ann Rep", "open", "500", "200", "USD", "2024-03-15", "X2"],
    ["", "acme.com", "", "", "", "300", "100", "", "2024-04-01", "X3"],
]
ORDERS = StepMapping.from_dict(
    {
        "into": "orders",
        "fields": {
            "number": "Number",
            "company": "Customer",
            "deal": "Deal",
            "owner": "Rep",
            "status": "Status",
            "amount": "Amount",
            "cost": "Cost",
            "currency": "Currency",
            "ordered_at": "Ordered",
            "external_id": "Ref",
        },
    }
)
INVOICE_HEADER = ["Number", "Order", "Customer", "Issued", "Due", "Paid", "Status", "Amount", "Cost"]
INVOICE_ROWS = [
    ["I-1", "O-1", "", "2024-03-02", "2024-03-30", "2024-03-20", "paid", "1000", "600"],
    ["I-2", "", "Acme", "2024-03-16", "", "", "issued", "400", "150"],
]
INVOICES = StepMapping.from_dict(
    {
        "into": "invoices",
        "currency": "USD",
        "fields": {
            "number": "Number",
            "order": "Order",
            "company": "Customer",
            "issued_at": "Issued",
            "due_date": "Due",
            "paid_at": "Paid",
            "status": "Status",
            "amount": "Amount",
            "cost": "Cost",
        },
    }
)


@pytest.fixture
def usd_rates():
    ExchangeRate.objects.create(currency="USD", valid_from=dt.date(2024, 1, 1), rate=Decimal("0.9"))
    ExchangeRate.objects.create(currency="USD", valid_from=dt.date(2024, 3, 10), rate=Decimal("0.95"))


def order(number: str) -> tuple:
    o = Order.objects.get(number=number)
    return (
        o.company.name,
        o.deal.external_id if o.deal else None,
        o.owner.username if o.owner else None,
        o.status,
        o.amount,
        o.cost,
        o.profit,
        o.currency,
        o.exchange_rate,
        o.ordered_at,
        o.external_id,
    )


def test_orders_dry_run_then_commit(write_csv, usd_rates):
    path = write_csv("orders.csv", [ORDER_HEADER, *ORDER_ROWS])
    checked = run(path, ORDERS, dry_run=True)
    assert checked.ok and checked.totals()["created"] == 3 and not Order.objects.exists(), checked.reason

    report = run(path, ORDERS)
    assert report.ok and report.totals()["created"] == 3, report.reason
    assert order("O-1") == ("Acme", "D1", "rep1", "fulfilled", 1000, 600, 400, "EUR", 1, at("2024-03-01 00:00"), "X1")
    # The company of the deal; dollars at the rate of the order's own day.
    assert order("O-2") == ("Acme", "D1", "rep1", "open", 500, 200, 300, "USD", Decimal("0.95"), at("2024-03-15 00:00"), "X2")
    # No number: the external id is its number; company by web domain; the company currency.
    assert order("X3")[:9] == ("Acme", None, None, "open", 300, 100, 200, "EUR", 1)


def test_invoices_dry_run_then_commit(write_csv, usd_rates, world):
    run(write_csv("orders.csv", [ORDER_HEADER, *ORDER_ROWS]), ORDERS)
    path = write_csv("invoices.csv", [INVOICE_HEADER, *INVOICE_ROWS])
    checked = run(path, INVOICES, dry_run=True)
    assert checked.ok and checked.totals()["created"] == 2 and not Invoice.objects.exists(), checked.reason

    report = run(path, INVOICES)
    assert report.ok and report.totals()["created"] == 2, report.reason
    paid = Invoice.objects.get(number="I-1")
    # The order's company; the file's amounts are in dollars (the mapping's currency), at the issue day's rate.
    assert (paid.order.number, paid.company, paid.status, paid.currency, paid.exchange_rate) == (
        "O-1",
        world["acme"],
        "paid",
        "USD",
        Decimal("0.9"),
    )
    assert (paid.issued_at, paid.due_date, paid.paid_at) == (at("2024-03-02 00:00"), dt.date(2024, 3, 30), at("2024-03-20 00:00"))
    assert (paid.amount, paid.cost, paid.profit) == (1000, 600, 400)
    issued = Invoice.objects.get(number="I-2")
    assert (issued.order, issued.company, issued.exchange_rate, issued.paid_at) == (None, world["acme"], Decimal("0.95"), None)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("Amount", "-5", "The amount cannot be negative."),
        ("Cost", "-1", "The cost cannot be negative."),
        ("Ordered", "2024-13-01", "not a real date"),
        ("Rep", "Anna Rep", "did you mean 'Ann Rep'?"),
        ("Status", "shipped", "expected one of: open, fulfilled, cancelled"),
        ("Customer", "Initech", "there is no company 'Initech'"),
    ],
)
def test_a_bad_order_row_is_reported_and_nothing_is_written(write_csv, usd_rates, column, value, message):
    bad = list(ORDER_ROWS[1])
    bad[ORDER_HEADER.index(column)] = value
    report = run(write_csv("orders.csv", [ORDER_HEADER, ORDER_ROWS[0], bad, ORDER_ROWS[2]]), ORDERS)
    assert not report.ok and not Order.objects.exists()
    error = only_error(report)
    assert (error.column, error.examples[0].row, error.examples[0].value) == (column, 3, value)
    assert message in error.examples[0].message


def test_an_order_without_company_date_number_or_rate_is_refused(write_csv):
    no_company = ["O-9", "", "", "rep1", "open", "10", "0", "EUR", "2024-03-01", ""]
    no_date = ["O-8", "Acme", "", "rep1", "open", "10", "0", "EUR", "", ""]
    no_rate = ["O-7", "Acme", "", "rep1", "open", "10", "0", "GBP", "2024-03-01", ""]
    no_number = ["", "Acme", "", "rep1", "open", "10", "0", "EUR", "2024-03-01", ""]
    rows = [ORDER_HEADER, no_company, no_date, no_rate, no_number]
    report = run(write_csv("orders.csv", rows), ORDERS, skip_bad_rows=True)
    assert report.totals()["rejected"] == 4 and not Order.objects.exists()
    (number,) = groups(report, "required_blank", column="Number")
    assert number.examples[0].row == 5 and "number is required (or an external id)" in number.examples[0].message
    (company,) = groups(report, "required_blank", column="Customer")
    assert "company is required (or a deal that has one)" in company.examples[0].message
    (date,) = groups(report, "required_blank", column="Ordered")
    assert date.examples[0].row == 3 and "needs the date it was ordered" in date.examples[0].message
    (rate,) = groups(report, "no_exchange_rate", column="Currency")
    assert rate.examples[0].row == 4 and rate.examples[0].value == "GBP"


def test_invoice_dates_follow_the_invoice_rules(write_csv, usd_rates):
    early_due = ["I-3", "", "Acme", "2024-03-16", "2024-03-01", "", "issued", "10", "0"]
    early_paid = ["I-4", "", "Acme", "2024-03-16", "", "2024-03-15", "paid", "10", "0"]
    report = run(write_csv("invoices.csv", [INVOICE_HEADER, early_due, early_paid]), INVOICES, skip_bad_rows=True)
    assert report.totals()["rejected"] == 2 and not Invoice.objects.exists()
    (due,) = groups(report, "invalid_record", column="Due")
    assert "The due date cannot be before the invoice was issued." in due.examples[0].message
    (paid,) = groups(report, "invalid_record", column="Paid")
    assert "An invoice cannot be paid before it was issued." in paid.examples[0].message


def test_reimporting_orders_and_invoices_creates_nothing_and_updates_change_them(write_csv, usd_rates):
    orders = write_csv("orders.csv", [ORDER_HEADER, *ORDER_ROWS])
    invoices = write_csv("invoices.csv", [INVOICE_HEADER, *INVOICE_ROWS])
    run(orders, ORDERS)
    run(invoices, INVOICES)
    for path, mapping in ((orders, ORDERS), (invoices, INVOICES)):
        again = run(path, mapping)
        assert (
            again.ok
            and again.totals()["created"] == 0
            and again.totals()["skipped"] == len(ORDER_ROWS if mapping is ORDERS else INVOICE_ROWS)
        )
        merged = run(path, mapping, on_duplicate="update")
        assert merged.ok and merged.totals()["updated"] == 0 and merged.totals()["created"] == 0, merged.reason
    assert (Order.objects.count(), Invoice.objects.count()) == (3, 2)

    # Found by external id (the number column left blank): the order was cancelled.
    cancelled = ["", "", "", "", "cancelled", "", "", "", "", "x2"]
    report = run(write_csv("cancelled.csv", [ORDER_HEADER, cancelled]), ORDERS, on_duplicate="update")
    assert report.ok and report.totals()["updated"] == 1, report.reason
    assert order("O-2")[3:5] == ("cancelled", 500)  # blank cells keep the record's values
    # The second invoice is paid; moving its issue day to before the rate change takes that day's rate.
    paid = ["I-2", "", "", "2024-03-05", "", "2024-04-02", "paid", "", ""]
    report = run(write_csv("paid.csv", [INVOICE_HEADER, paid]), INVOICES, on_duplicate="update")
    assert report.ok and report.totals()["updated"] == 1, report.reason
    invoice = Invoice.objects.get(number="I-2")
    assert (invoice.status, invoice.paid_at, invoice.exchange_rate, invoice.amount) == (
        "paid",
        at("2024-04-02 00:00"),
        Decimal("0.9"),
        400,
    )
    assert (Order.objects.count(), Invoice.objects.count()) == (3, 2)


# ------------------------------------------------------------------------------------------ the pages


@pytest.fixture
def browser(client: Client, settings, tmp_path: Path) -> Client:
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    client.force_login(UserFactory(role=Role.DIRECTOR, first_name="Dana", last_name="Director"))
    return client


def test_the_upload_page_offers_activities_orders_and_invoices_and_imports_activities(browser: Client):
    page = browser.get(reverse("imports:start")).content.decode()
    for name in ("activities", "orders", "invoices"):
        assert f'value="into:{name}"' in page

    rows = [
        ["External id", "Kind", "Subject", "Owner", "When", "Direction", "Duration"],
        ["W1", "call", "Cold call", "rep1", "2024-05-02 11:00", "out", "0:03:20"],
    ]
    job = job_of(upload(browser, csv_bytes(rows), name="calls.csv", holds="into:activities"))
    choices = initial_choices(browser, job)  # guessed from the fields' names and labels
    assert choices == {
        "External id": "external_id",
        "Kind": "kind",
        "Subject": "subject",
        "Owner": "owner",
        "When": "occurred_at",
        "Direction": "direction",
        "Duration": "duration",
    }
    run_dry(browser, job, choices)
    job.refresh_from_db()
    assert job.report["ok"] and job.report["totals"]["created"] == 1 and not Activity.objects.exists()
    browser.post(reverse("imports:commit", args=[job.pk]))
    call = Activity.objects.get(external_id="W1")
    assert (call.kind, call.owner.username, call.duration_seconds, call.occurred_at) == (
        "call",
        "rep1",
        200,
        at("2024-05-02 11:00"),
    )
