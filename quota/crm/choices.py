from django.db import models
from django.utils.translation import gettext_lazy as _


class LeadStatus(models.TextChoices):
    OPEN = "open", _("Open")
    QUALIFIED = "qualified", _("Qualified")
    CONVERTED = "converted", _("Converted")
    DISQUALIFIED = "disqualified", _("Disqualified")


class Lifecycle(models.TextChoices):
    """A company's stage as a customer (derived from its customer-since and churn dates)."""

    PROSPECT = "prospect", _("Prospect")
    CUSTOMER = "customer", _("Customer")
    CHURNED = "churned", _("Churned")


class DealStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class BusinessType(models.TextChoices):
    NEW = "new", _("New customer")
    EXISTING = "existing", _("Existing customer")


class CustomFieldType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice")
    BOOLEAN = "boolean", _("Yes or no")


class CustomFieldTarget(models.TextChoices):
    COMPANY = "company", _("Company")
    CONTACT = "contact", _("Contact")
    LEAD = "lead", _("Lead")
    DEAL = "deal", _("Deal")


class LeadDirection(models.TextChoices):
    INBOUND = "inbound", _("Inbound")  # the lead reached out (a form, a referral)
    OUTBOUND = "outbound", _("Outbound")  # we reached out (prospecting, cold calls)


# The built-in lead sources (keys are stable; names are translated in the UI).
SYSTEM_LEAD_SOURCES = [
    ("website", _("Website")),
    ("social", _("Social media")),
    ("own_prospecting", _("Own prospecting")),
    ("referral", _("Referral")),
    ("other", _("Other")),
]
