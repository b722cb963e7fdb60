"""Products (what deals sell), orders and invoices (what was sold and billed).

Orders and invoices are money in their own currency (the file's column, else the mapping's currency),
kept with the exchange rate of their own date as the services keep it (`core.services.set_exchange_rate`):
an order's date, an invoice's issue date. They are found again by number or external id; a new one
without a number is numbered with its external id.
"""

from __future__ import annotations

from typing import ClassVar

from django.core.exceptions import ValidationError

from quota.imports.problems import ProblemKind
from quota.imports.targets.base import RowWork, StepContext, Target
from quota.imports.targets.rows import Derived, is_left_alone, is_new
from quota.sales.models import Invoice, Order, Product


class ProductTarget(Target):
    name = "products"
    model = Product
    match_fields = ("sku", "name")


class SaleTarget(Target):
    """What orders and invoices share: a number, a company, money at the rate of the record's date."""

    match_fields = ("number", "external_id")
    exclude = frozenset({"exchange_rate"})  # the rate of the record's date, as the services set it
    # A new record without a company takes the linked record's; without a number, its external id.
    filled_when_blank = frozenset({"company", "number"})
    link: ClassVar[str]  # the record a row without a company takes the company of
    needs_date: ClassVar[str]  # the problem of a new record without its date

    def __init__(self) -> None:
        self.derived = Derived()

    def prepare(self, work: RowWork, ctx: StepContext) -> None:
        record = work.instance
        assert isinstance(record, Order | Invoice)
        if is_left_alone(work, ctx.on_duplicate):
            return
        date_field = record.rate_date_field
        if is_new(work):
            if work.values.get(date_field) is None:
                # The model's default (now) would put a past sale in today's figures.
                work.problem(ProblemKind.REQUIRED_BLANK, self.needs_date, field=date_field, value="")
                return
            if not record.number:
                if not work.values.get("external_id"):
                    work.problem(ProblemKind.REQUIRED_BLANK, "number is required (or an external id)", field="number", value="")
                    return
                self.derived.fill(work, "number", "external_id", work.values["external_id"])
                record.number = work.values["external_id"]
        if record.company_id is None:
            linked = work.values.get(self.link)
            if getattr(linked, "company_id", None) is None:
                work.problem(
                    ProblemKind.REQUIRED_BLANK,
                    f"company is required (or a {self.link} that has one)",
                    field="company" if "company" in ctx.mapped or self.link not in ctx.mapped else self.link,
                    value="",
                )
                return
            record.company_id = linked.company_id
        try:
            record.exchange_rate = ctx.rate(record.currency, getattr(record, date_field).date())
        except ValidationError as exc:
            work.problem(ProblemKind.NO_EXCHANGE_RATE, " ".join(exc.messages), field="currency", value=record.currency)


class OrderTarget(SaleTarget):
    name = "orders"
    model = Order
    link = "deal"
    needs_date = "a new order needs the date it was ordered"


class InvoiceTarget(SaleTarget):
    name = "invoices"
    model = Invoice
    link = "order"
    needs_date = "a new invoice needs the date it was issued"
