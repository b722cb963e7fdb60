"""The fixed lists a report is made of: how often, which periods, which tables, which formats."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# A monthly report on "the last day of the month" stores this instead of a day number.
LAST_DAY = -1
# Days 29-31 do not exist in every month; past this, people choose LAST_DAY.
LATEST_FIXED_DAY = 28


class Frequency(models.TextChoices):
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class Grouping(models.TextChoices):
    NONE = "none", _("Totals only")
    PERSON = "person", _("By person")
    TEAM = "team", _("By team")


class ReportPeriod(models.TextChoices):
    YESTERDAY = "yesterday", _("Yesterday")
    LAST_7_DAYS = "last_7_days", _("Last 7 days")
    LAST_WEEK = "last_week", _("Last week")
    WEEK_TO_DATE = "week_to_date", _("Week to date")
    LAST_MONTH = "last_month", _("Last month")
    MONTH_TO_DATE = "month_to_date", _("Month to date")
    LAST_QUARTER = "last_quarter", _("Last quarter")
    QUARTER_TO_DATE = "quarter_to_date", _("Quarter to date")
    LAST_YEAR = "last_year", _("Last year")
    YEAR_TO_DATE = "year_to_date", _("Year to date")


class ReportTable(models.TextChoices):
    WON_DEALS = "won_deals", _("Deals won in the period")
    TOP_WON_DEALS = "top_won_deals", _("Largest deals won in the period")
    LOST_DEALS = "lost_deals", _("Deals lost in the period")
    OPEN_PIPELINE = "open_pipeline", _("Open pipeline (now)")


class ReportFormat(models.TextChoices):
    PDF = "pdf", "PDF"
    XLSX = "xlsx", "XLSX"
    CSV = "csv", "CSV"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Rendering")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


FINISHED = (DeliveryStatus.SENT, DeliveryStatus.FAILED)


class DeliveryTrigger(models.TextChoices):
    SCHEDULE = "schedule", _("Schedule")
    MANUAL = "manual", _("Send now")
    COMMAND = "command", _("Command line")
