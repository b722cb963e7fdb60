"""Offer, order and invoice numbers: a prefix per kind, the year, a running number without gaps, unique under load."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from quota.accounts.models import Team
from quota.sales.models import DocumentCounter, DocumentKind, DocumentNumbering, Invoice, Offer, Order
from quota.sales.numbering import next_number
from quota.sales.services import document_create
from quota.testing.api import client_for
from quota.testing.factories import CompanyFactory, UserFactory

ISSUED_2026 = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def rep(db):
    return UserFactory(team=Team.objects.create(name="North"))


def invoice(rep, **fields):
    fields = {"company": CompanyFactory(owner=rep), "owner": rep, "amount": Decimal("10"), "issued_at": ISSUED_2026, **fields}
    return document_create(model=Invoice, by=rep, **fields)


def test_each_kind_counts_on_its_own_and_starts_again_each_year(rep):
    company = CompanyFactory(owner=rep)
    assert [invoice(rep).number for _ in range(3)] == ["INV-2026-0001", "INV-2026-0002", "INV-2026-0003"]
    assert invoice(rep, issued_at=dt.datetime(2027, 1, 2, tzinfo=dt.UTC)).number == "INV-2027-0001"
    assert invoice(rep, issued_at=dt.datetime(2026, 12, 30, tzinfo=dt.UTC)).number == "INV-2026-0004"
    order = document_create(model=Order, by=rep, company=company, owner=rep, ordered_at=ISSUED_2026)
    offer = document_create(model=Offer, by=rep, company=company, owner=rep, created_at=ISSUED_2026)
    assert (order.number, offer.number) == ("SO-2026-0001", "OF-2026-0001")


def test_the_year_is_the_companys_not_utcs(rep, settings):
    settings.TIME_ZONE = "Europe/Warsaw"  # 23:30 UTC on New Year's Eve is already the next year in Warsaw
    assert invoice(rep, issued_at=dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)).number == "INV-2027-0001"


def test_an_administrator_sets_the_prefix(rep):
    DocumentNumbering.objects.update_or_create(kind=DocumentKind.INVOICE, defaults={"prefix": "FV/"})
    assert invoice(rep).number == "FV/2026-0001"


def test_a_refused_document_takes_no_number_so_there_is_no_gap(rep):
    stranger = UserFactory(team=Team.objects.create(name="South"))
    with pytest.raises(PermissionDenied):
        invoice(rep, owner=stranger)  # a rep may not give records to another team
    assert not Invoice.objects.exists()
    assert invoice(rep).number == "INV-2026-0001"


def test_a_number_an_import_brought_is_kept_and_never_given_again(rep):
    assert invoice(rep, number="INV-2026-0002").number == "INV-2026-0002"  # as an import writes it
    assert [invoice(rep).number for _ in range(2)] == ["INV-2026-0001", "INV-2026-0003"]
    assert DocumentCounter.objects.get(kind="invoice", year=2026).last == 3


def test_the_number_is_shown_and_searched_on_the_pages_and_read_only_in_the_api(client, rep):
    first, second = invoice(rep), invoice(rep)
    client.force_login(rep)
    listing = client.get(reverse("sales:invoice_list"), {"q": second.number})
    assert [record.number for record in listing.context["page"].object_list] == [second.number]
    export = b"".join(client.get(reverse("sales:invoice_export"), {"format": "csv"}).streaming_content).decode("utf-8-sig")
    assert first.number in export and second.number in export
    api = client_for(rep)
    assert api.get("/api/invoices/", {"search": first.number}).json()["results"][0]["number"] == first.number
    changed = api.patch(f"/api/invoices/{first.pk}/", {"number": "MINE-1"}, format="json")
    assert changed.status_code == 200 and changed.json()["number"] == first.number


@pytest.mark.django_db(transaction=True)
def test_people_saving_at_once_get_distinct_numbers_without_gaps():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite writes one at a time; the row lock is PostgreSQL's")
    rep = UserFactory(team=Team.objects.create(name="North"))
    company = CompanyFactory(owner=rep)
    workers, per_worker = 6, 5
    start = threading.Barrier(workers)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            for _ in range(per_worker):
                document_create(model=Invoice, by=rep, company=company, owner=rep, amount=Decimal("1"), issued_at=ISSUED_2026)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"INV-2026-{n:04d}" for n in range(1, workers * per_worker + 1)]


@pytest.mark.django_db(transaction=True)
def test_next_number_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        next_number(DocumentKind.OFFER, 2026)


BEFORE, AFTER = ("sales", "0002_document_numbering"), ("sales", "0003_number_existing_documents")


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_numbers_existing_documents_in_the_order_they_were_made():
    try:
        old = migrate(BEFORE)
        company = old.get_model("crm", "Company").objects.create(name="Acme")
        OldInvoice = old.get_model("sales", "Invoice")
        made = [
            ("INV-2026-0001", dt.datetime(2026, 5, 1, tzinfo=dt.UTC), ""),  # an old number the new scheme gives another
            ("B", dt.datetime(2025, 7, 1, tzinfo=dt.UTC), "erp-9"),
            ("A", dt.datetime(2026, 2, 1, tzinfo=dt.UTC), ""),
            ("C", dt.datetime(2025, 3, 1, tzinfo=dt.UTC), ""),
        ]
        ids = {
            number: OldInvoice.objects.create(
                number=number, company=company, issued_at=issued, external_id=external, amount=1, cost=0, exchange_rate=1
            ).pk
            for number, issued, external in made
        }
        OldOffer = old.get_model("sales", "Offer")
        offer = OldOffer.objects.create(number="Q-1", company=company, created_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))

        new = migrate(AFTER)
        Invoice_ = new.get_model("sales", "Invoice")
        renumbered = {old_number: Invoice_.objects.get(pk=pk) for old_number, pk in ids.items()}
        assert {old_number: row.number for old_number, row in renumbered.items()} == {
            "C": "INV-2025-0001",
            "B": "INV-2025-0002",
            "A": "INV-2026-0001",
            "INV-2026-0001": "INV-2026-0002",
        }
        assert renumbered["C"].external_id == "C" and renumbered["B"].external_id == "erp-9"  # the old number stays findable
        assert new.get_model("sales", "Offer").objects.get(pk=offer.pk).number == "OF-2024-0001"
        counters = new.get_model("sales", "DocumentCounter").objects.values_list("kind", "year", "last")
        assert sorted(counters) == [("invoice", 2025, 2), ("invoice", 2026, 2), ("offer", 2024, 1)]
        assert dict(new.get_model("sales", "DocumentNumbering").objects.values_list("kind", "prefix")) == {
            "offer": "OF-",
            "order": "SO-",
            "invoice": "INV-",
        }
    finally:
        migrate(AFTER)
