"""Template helpers for record pages: table cells, money, record links, navigation.

Numbers and money are formatted by `core.formatting` (Babel, the user's language), dates by Django's
localisation (`date_format`), so both follow the user's language.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import template
from django.db import models
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.formats import date_format, number_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from quota.core.formatting import count_text, money_text
from quota.core.views import Column, record_url

register = template.Library()

EMPTY = mark_safe('<span class="muted">-</span>')

# The main navigation: (section, [(url name, label[, permission]), ...]). Every list page is one click
# away; an entry that names a permission (core.permissions) is shown only to those who have it, so the
# menu never offers a page that answers 403.
NAVIGATION: tuple[tuple[Any, tuple[tuple[Any, ...], ...]], ...] = (
    (
        gettext_lazy("Sales"),
        (
            ("crm:board", gettext_lazy("Pipeline")),
            ("crm:deal_list", gettext_lazy("Deals")),
            ("crm:lead_list", gettext_lazy("Leads")),
            ("activities:activity_list", gettext_lazy("Activities")),
        ),
    ),
    (
        gettext_lazy("Customers"),
        (
            ("crm:company_list", gettext_lazy("Companies")),
            ("crm:contact_list", gettext_lazy("Contacts")),
            ("crm:customers", gettext_lazy("Customer retention")),
            ("service:case_list", gettext_lazy("Cases")),
        ),
    ),
    (
        gettext_lazy("Documents"),
        (
            ("sales:offer_list", gettext_lazy("Offers")),
            ("sales:order_list", gettext_lazy("Orders")),
            ("sales:invoice_list", gettext_lazy("Invoices")),
        ),
    ),
    (
        gettext_lazy("Marketing"),
        (
            ("marketing:campaign_list", gettext_lazy("Campaigns")),
            ("webforms:list", gettext_lazy("Web forms"), "webforms.build"),
        ),
    ),
    (
        gettext_lazy("Performance"),
        (
            ("dashboards:targets", gettext_lazy("Targets")),
            ("dashboards:builder", gettext_lazy("KPIs")),
            ("reports:report_list", gettext_lazy("Reports")),
        ),
    ),
    (
        gettext_lazy("Integrations"),
        (
            ("webhooks:list", gettext_lazy("Webhooks"), "webhooks.manage"),
            ("imports:start", gettext_lazy("Import"), "imports.run"),
            ("audit:log", gettext_lazy("Audit trail"), "audit.view"),
        ),
    ),
)


@register.inclusion_tag("core/_navigation.html", takes_context=True)
def main_navigation(context: dict[str, Any]) -> dict[str, Any]:
    request: HttpRequest | None = context.get("request")
    current = request.path if request else ""
    user = request.user if request is not None else None
    sections = []
    for title, entries in NAVIGATION:
        links = []
        for url_name, label, *permission in entries:
            if permission and not (user is not None and user.has_perm(permission[0])):
                continue
            try:
                url = reverse(url_name)
            except NoReverseMatch:  # an app without pages yet
                continue
            links.append({"url": url, "label": label, "active": current.startswith(url)})
        if links:
            sections.append({"title": title, "links": links})
    return {"sections": sections}


# Stands for a record's id in a URL reversed once for many records (`record_link`).
PATTERN_PK = 2147483647


@register.simple_tag(takes_context=True)
def record_link(context: template.Context, name: str, pk: Any) -> str:
    """`{% url name pk %}` for the many records of one page (a board's cards): the URL is reversed once per
    page render, then each record's id put in (800 reversals were ~16 ms of a 200-card board)."""
    render_context: Any = context.render_context  # per template render (its stubs type it narrowly)
    patterns: dict[str, str] = render_context.setdefault("record_link_patterns", {})
    if name not in patterns:
        patterns[name] = reverse(name, args=[PATTERN_PK])
    return patterns[name].replace(str(PATTERN_PK), str(int(pk)))


@register.simple_tag
def record_url_pattern(name: str) -> str:
    """`{% url name pk %}` with `{pk}` for the record's id, for a script to put each record's id in (the board's move,
    win and lose URLs, named once on the board instead of on each of its hundreds of cards)."""
    return reverse(name, args=[PATTERN_PK]).replace(str(PATTERN_PK), "{pk}")


@register.simple_tag
def url_of(record: Any, page: str = "detail") -> str:
    return record_url(record, page) or ""


def _resolve(record: Any, accessor: str) -> tuple[Any, Any, Any]:
    """The value at a dotted path, the object holding it, and the model field it comes from."""
    if not accessor:
        return record, None, None
    *parents, last = accessor.split(".")
    holder = record
    for part in parents:
        holder = getattr(holder, part, None)
        if holder is None:
            return None, None, None
    model_field = None
    if isinstance(holder, models.Model):
        try:
            model_field = holder._meta.get_field(last)
        except Exception:
            model_field = None
    if model_field is not None and getattr(model_field, "choices", None) and not model_field.is_relation:
        return getattr(holder, f"get_{last}_display")(), holder, model_field
    value = getattr(holder, last, None)
    return (value() if callable(value) and not isinstance(value, models.Model) else value), holder, model_field


def _is_money(model_field: Any, holder: Any) -> bool:
    """A two-decimal amount on a record with a currency (a generated profit column counts too)."""
    model_field = getattr(model_field, "output_field", model_field)
    return isinstance(model_field, models.DecimalField) and model_field.decimal_places == 2 and hasattr(holder, "currency")


@register.simple_tag
def money(amount: Any, currency: str = "") -> SafeString:
    """An amount with its cents in the user's language's currency format (the one KPI values use, in whole units)."""
    if amount is None:
        return EMPTY
    return format_html('<span class="money">{}</span>', money_text(amount, currency or None, cents=True))


def format_value(value: Any, *, model_field: Any = None, holder: Any = None) -> SafeString | str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, dt.datetime):
        value = localtime(value)
        return format_html('<time datetime="{}">{}</time>', value.isoformat(), date_format(value, "SHORT_DATETIME_FORMAT"))
    if isinstance(value, dt.date):
        return format_html('<time datetime="{}">{}</time>', value.isoformat(), date_format(value, "SHORT_DATE_FORMAT"))
    if isinstance(value, Decimal):
        if _is_money(model_field, holder):
            return money(value, holder.currency)
        return number_format(value, force_grouping=True)
    if isinstance(value, int):
        return count_text(value)
    if isinstance(value, models.Model):
        url = record_url(value)
        return format_html('<a href="{}">{}</a>', url, value) if url else str(value)
    return str(value)


@register.filter
def formatted(value: Any) -> SafeString | str:
    """A value without a model field (a custom field's) formatted like the cells are."""
    return format_value(value)


@register.simple_tag
def cell(record: Any, column: Column) -> SafeString | str:
    """One table cell or summary line: localised, linked to the record it names."""
    value, holder, model_field = _resolve(record, column.accessor)
    if column.link:
        url = record_url(record)
        text = str(value) if value not in (None, "") else _("(untitled)")
        return format_html('<a href="{}">{}</a>', url, text) if url else text
    return format_value(value, model_field=model_field, holder=holder)


@register.simple_tag
def filled_cell(record: Any, column: Column) -> SafeString | str:
    """Like `cell`, but empty for an empty value, so a summary can leave the line out."""
    value, _holder, _field = _resolve(record, column.accessor)
    return "" if value is None or value == "" else cell(record, column)


@register.simple_tag
def badge(record: Any, field_name: str | None) -> SafeString | str:
    """A choice field (a status) as a coloured badge."""
    if not field_name:
        return ""
    value = getattr(record, field_name, "")
    label = getattr(record, f"get_{field_name}_display")()
    return format_html('<span class="badge badge-{}">{}</span>', value, label)
