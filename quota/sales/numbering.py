"""Numbers for offers, orders and invoices: a prefix per kind, the year, a running number without gaps.

INV-2026-0001, INV-2026-0002, ... Each kind counts on its own, and starts again at 1 each year (the
year of the document's own date in the company's time zone: an offer's creation, an order's date,
an invoice's issue date). A document gets its number when it is created; an invoice is created
issued (there is no draft invoice in Quota), so it is numbered when it is issued, as the law of most
countries asks. The number never changes afterwards.

Gap-free and race-safe: the next number is taken by locking the (kind, year) counter row
(`select_for_update`) inside the transaction that creates the document, so two people saving at once
wait for each other, and a creation that fails rolls its number back with it. A number already taken
(an imported document that carried its own) is skipped, so it is never given twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection, models
from django.utils import timezone

from quota.sales.models import DEFAULT_PREFIXES, DocumentCounter, DocumentKind, DocumentNumbering, Invoice, Offer, Order

DIGITS = 4  # INV-2026-0001; the 10,000th of a year simply has five
NUMBERED: dict[DocumentKind, type[models.Model]] = {
    DocumentKind.OFFER: Offer,
    DocumentKind.ORDER: Order,
    DocumentKind.INVOICE: Invoice,
}


def prefix_for(kind: str) -> str:
    rule = DocumentNumbering.objects.filter(kind=kind).values_list("prefix", flat=True).first()
    return DEFAULT_PREFIXES[DocumentKind(kind)] if rule is None else rule


def format_number(prefix: str, year: int, sequence: int) -> str:
    return f"{prefix}{year}-{sequence:0{DIGITS}d}"


def document_year(record: models.Model) -> int:
    """The year that numbers `record`: that of its own date in the company's time zone."""
    when: Any = getattr(record, getattr(record, "rate_date_field", "created_at"), None) or timezone.now()
    if isinstance(when, dt.datetime):
        when = timezone.localtime(when) if timezone.is_aware(when) else when
    return when.year


def next_number(kind: str, year: int) -> str:
    """Take the next number of `kind` in `year`; call it in the transaction that saves the document."""
    if not connection.in_atomic_block:
        raise RuntimeError("next_number must run in the transaction that creates the document")
    model = NUMBERED[DocumentKind(kind)]
    # The counter row exists before it is locked; get_or_create copes with two first documents at once.
    DocumentCounter.objects.get_or_create(kind=kind, year=year)
    counter = DocumentCounter.objects.select_for_update().get(kind=kind, year=year)
    prefix = prefix_for(kind)
    sequence = counter.last + 1
    while model._default_manager.filter(number=format_number(prefix, year, sequence)).exists():
        sequence += 1  # carried in by an import: already someone's
    counter.last = sequence
    counter.save(update_fields=["last"])
    return format_number(prefix, year, sequence)


def number_document(record: models.Model) -> None:
    """Give an unsaved document without a number the next one of its kind and year (a given number is kept).

    Call it in the transaction that saves the document: the counter stays locked until then.
    """
    if getattr(record, "number", ""):
        return
    record.number = next_number(record.numbered_as, document_year(record))  # type: ignore[attr-defined]
