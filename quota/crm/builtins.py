"""The built-in reference rows by key: lead sources, the default pipeline and its stages, loss and churn reasons.

Migrations store them with their English names, the same in every install; pages show them in the reader's
language by their key. A name that a user typed (a row of their own, or a built-in row they renamed) is shown
as typed: a built-in row is translated only while its name is still the built-in one.
"""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_noop as _

# key -> the English name the migrations store, which is also the msgid of its label in the reader's language.
SOURCES: dict[str, str] = {
    "website": _("Website"),
    "social": _("Social media"),
    "own_prospecting": _("Own prospecting"),
    "referral": _("Referral"),
    "other": _("Other"),
}
PIPELINES: dict[str, str] = {"sales": _("Sales")}
STAGES: dict[str, str] = {
    "qualification": _("Qualification"),
    "needs_analysis": _("Needs analysis"),
    "proposal": _("Proposal"),
    "negotiation": _("Negotiation"),
}
LOSS_REASONS: dict[str, str] = {
    "price_too_high": _("Price too high"),
    "no_budget": _("No budget"),
    "competitor_chosen": _("Competitor chosen"),
    "no_decision": _("No decision"),
    "timing": _("Timing"),
    "product_fit": _("Product fit"),
    "other": _("Other"),
}
CHURN_REASONS: dict[str, str] = {
    "contract_ended": _("Contract ended"),
    "switched_to_competitor": _("Switched to a competitor"),
    "price": _("Price"),
    "no_longer_needed": _("No longer needed"),
    "poor_service": _("Poor service"),
    "went_out_of_business": _("Went out of business"),
    "other": _("Other"),
}


def display_name(builtins: dict[str, str], key: str | None, name: str) -> str:
    """`name` in the reader's language when it is a built-in row's untouched name, else as typed."""
    builtin = builtins.get(key or "")
    return gettext(builtin) if builtin is not None and name == builtin else name


def key_for(builtins: dict[str, str], name: str) -> str:
    """The key of the built-in row stored as `name` ("" for a name of the user's own)."""
    return next((key for key, builtin in builtins.items() if builtin == name), "")
