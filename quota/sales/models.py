"""Products, offers (quotes), orders and invoices: what was sold, for how much, at what cost."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from quota.core.money import MONEY_DIGITS, MONEY_PLACES, currency_field, money_field, rate_field
from quota.core.visibility import VisibleQuerySet


def owner_field() -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )


def profit_field() -> models.GeneratedField:
    return models.GeneratedField(
        expression=F("amount") - F("cost"),
        output_field=models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES),
        db_persist=True,
        verbose_name=_("profit"),
    )


def money_errors(record: Order | Invoice) -> dict[str, Any]:
    """What the money constraints would refuse, said in words people understand."""
    errors: dict[str, Any] = {}
    if record.amount is not None and record.amount < 0:
        errors["amount"] = _("The amount cannot be negative.")
    if record.cost is not None and record.cost < 0:
        errors["cost"] = _("The cost cannot be negative.")
    return errors


def money_constraints(prefix: str) -> list[models.BaseConstraint]:
    return [
        models.CheckConstraint(condition=Q(amount__gte=0), name=f"{prefix}_amount_not_negative"),
        models.CheckConstraint(condition=Q(cost__gte=0), name=f"{prefix}_cost_not_negative"),
        models.CheckConstraint(condition=Q(exchange_rate__gt=0), name=f"{prefix}_rate_positive"),
    ]


class DocumentKind(models.TextChoices):
    """The sales documents that are numbered, each in its own sequence."""

    OFFER = "offer", _("Offer")
    ORDER = "order", _("Order")
    INVOICE = "invoice", _("Invoice")


DEFAULT_PREFIXES = {DocumentKind.OFFER: "OF-", DocumentKind.ORDER: "SO-", DocumentKind.INVOICE: "INV-"}


class DocumentNumbering(models.Model):
    """How one kind of document is numbered: its prefix, set by an administrator (see sales.numbering)."""

    kind = models.CharField(_("document"), max_length=10, choices=DocumentKind.choices, unique=True)
    prefix = models.CharField(
        _("prefix"),
        max_length=12,
        blank=True,
        validators=[RegexValidator(r"^[A-Za-z0-9/_.-]*$", _("Use letters, digits and - / _ . only."))],
        help_text=_("Put before the year and the running number, e.g. INV- gives INV-2026-0001."),
    )

    class Meta:
        ordering = ["kind"]
        verbose_name = _("document numbering")
        verbose_name_plural = _("document numbering")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.prefix}"


class DocumentCounter(models.Model):
    """The last number given to one kind of document in one year; numbering locks this row to take the next."""

    kind = models.CharField(_("document"), max_length=10, choices=DocumentKind.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        ordering = ["kind", "year"]
        verbose_name = _("document counter")
        verbose_name_plural = _("document counters")
        constraints = [models.UniqueConstraint(fields=["kind", "year"], name="document_counter_once_per_kind_and_year")]

    def __str__(self) -> str:
        return f"{self.kind} {self.year}: {self.last}"


class Product(models.Model):
    """Something the company sells, with its list price and unit cost."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    sku = models.CharField(_("SKU"), max_length=64, blank=True, default="")
    series = models.CharField(_("series"), max_length=100, blank=True, default="")
    price = money_field(_("list price"))
    cost = money_field(_("unit cost"))
    currency = currency_field()
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
            models.CheckConstraint(condition=Q(cost__gte=0), name="product_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class OfferStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    EXPIRED = "expired", _("Expired")


class Offer(models.Model):
    """A quote sent to a customer for a deal; its total is the sum of its lines."""

    number = models.CharField(_("number"), max_length=40, unique=True)
    deal = models.ForeignKey(
        "crm.Deal", verbose_name=_("deal"), null=True, blank=True, on_delete=models.SET_NULL, related_name="offers"
    )
    company = models.ForeignKey("crm.Company", verbose_name=_("company"), on_delete=models.PROTECT, related_name="offers")
    owner = owner_field()
    status = models.CharField(_("status"), max_length=10, choices=OfferStatus.choices, default=OfferStatus.DRAFT)
    currency = currency_field()
    exchange_rate = rate_field()
    amount = money_field(_("total"), editable=False)
    cost = money_field(_("total cost"), editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    numbered_as = DocumentKind.OFFER
    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        indexes = [models.Index(fields=["created_at"])]
        constraints = money_constraints("offer")

    def __str__(self) -> str:
        return self.number

    @property
    def lines_locked(self) -> bool:
        """An accepted or rejected offer keeps the lines the customer answered."""
        return self.status in {OfferStatus.ACCEPTED, OfferStatus.REJECTED}


class OfferLine(models.Model):
    """One product on an offer: quantity, unit price, discount."""

    offer = models.ForeignKey(Offer, verbose_name=_("offer"), on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=3, validators=[MinValueValidator(Decimal("0.001"))]
    )
    unit_price = money_field(_("unit price"))
    unit_cost = money_field(_("unit cost"))
    discount_percent = models.DecimalField(
        _("discount (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )

    owner_path = "offer__owner"
    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["offer", "id"]
        verbose_name = _("offer line")
        verbose_name_plural = _("offer lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="offerline_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="offerline_price_not_negative"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100), name="offerline_discount_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product}"

    @property
    def total(self) -> Decimal:
        return (self.quantity * self.unit_price * (1 - self.discount_percent / 100)).quantize(Decimal("0.01"))

    @property
    def total_cost(self) -> Decimal:
        return (self.quantity * self.unit_cost).quantize(Decimal("0.01"))


class OrderStatus(models.TextChoices):
    OPEN = "open", _("Open")
    FULFILLED = "fulfilled", _("Fulfilled")
    CANCELLED = "cancelled", _("Cancelled")


class Order(models.Model):
    """A confirmed sale: its amount, its cost and so its profit."""

    number = models.CharField(_("number"), max_length=40, unique=True)
    company = models.ForeignKey("crm.Company", verbose_name=_("company"), on_delete=models.PROTECT, related_name="orders")
    deal = models.ForeignKey(
        "crm.Deal", verbose_name=_("deal"), null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    offer = models.ForeignKey(
        Offer, verbose_name=_("offer"), null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    owner = owner_field()
    status = models.CharField(_("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.OPEN)
    amount = money_field(_("amount"))
    cost = money_field(_("cost"))
    profit = profit_field()
    currency = currency_field()
    exchange_rate = rate_field()
    ordered_at = models.DateTimeField(_("ordered"), default=timezone.now)
    external_id = models.CharField(_("external id"), max_length=100, blank=True, default="")

    rate_date_field = "ordered_at"  # the exchange rate of this day applies, and its year numbers the order
    numbered_as = DocumentKind.ORDER
    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["-ordered_at"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [models.Index(fields=["ordered_at"]), models.Index(fields=["external_id"])]
        constraints = money_constraints("order")

    def __str__(self) -> str:
        return self.number

    def clean(self) -> None:
        errors = money_errors(self)
        if errors:
            raise ValidationError(errors)


class InvoiceStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")


class Invoice(models.Model):
    """A bill for an order: amount, cost of what it bills, profit, and when it was paid."""

    number = models.CharField(_("number"), max_length=40, unique=True)
    company = models.ForeignKey("crm.Company", verbose_name=_("company"), on_delete=models.PROTECT, related_name="invoices")
    order = models.ForeignKey(
        Order, verbose_name=_("order"), null=True, blank=True, on_delete=models.SET_NULL, related_name="invoices"
    )
    owner = owner_field()
    status = models.CharField(_("status"), max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.ISSUED)
    amount = money_field(_("amount"))
    cost = money_field(_("cost"))
    profit = profit_field()
    currency = currency_field()
    exchange_rate = rate_field()
    issued_at = models.DateTimeField(_("issued"), default=timezone.now)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    external_id = models.CharField(_("external id"), max_length=100, blank=True, default="")

    rate_date_field = "issued_at"  # the exchange rate of this day applies, and its year numbers the invoice
    numbered_as = DocumentKind.INVOICE
    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        indexes = [
            models.Index(fields=["issued_at"]),
            models.Index(fields=["company", "issued_at"]),
            models.Index(fields=["external_id"]),
        ]
        constraints = [
            *money_constraints("invoice"),
            models.CheckConstraint(
                condition=Q(paid_at__isnull=True) | Q(paid_at__gte=F("issued_at")), name="invoice_paid_after_issued"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def clean(self) -> None:
        errors = money_errors(self)
        if self.due_date and self.issued_at and self.due_date < self.issued_at.date():
            errors["due_date"] = _("The due date cannot be before the invoice was issued.")
        if self.paid_at and self.issued_at and self.paid_at < self.issued_at:
            errors["paid_at"] = _("An invoice cannot be paid before it was issued.")
        if errors:
            raise ValidationError(errors)
