"""KPI definitions (versioned, built in or made with the builder) and the targets set for them."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from quota.core.visibility import VisibleQuerySet
from quota.kpi import definitions
from quota.kpi.periods import Every, add_months, floor

KEY_VALIDATOR = RegexValidator(r"^[a-z][a-z0-9_]*$", _("Use lower-case letters, digits and underscores (snake_case)."))


class MetricQuerySet(models.QuerySet):
    def current(self) -> MetricQuerySet:
        return self.filter(is_current=True)


class Metric(models.Model):
    """One version of a KPI definition. A changed definition is a new version; the old one stays.

    Targets point to the version they were set against, so a definition that changes later does
    not silently rewrite what a past target measured. Asking for a KPI by key gets the current version.
    """

    key = models.CharField(_("key"), max_length=64, validators=[KEY_VALIDATOR])
    version = models.PositiveIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("definition"), help_text=_("What is counted, placed by which date, for whom."))
    definition = models.JSONField(_("definition (data)"))
    is_builtin = models.BooleanField(_("built in"), default=False)
    is_current = models.BooleanField(_("current version"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = MetricQuerySet.as_manager()

    class Meta:
        ordering = ["key", "-version"]
        verbose_name = _("KPI")
        verbose_name_plural = _("KPIs")
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="metric_unique_version"),
            models.UniqueConstraint(fields=["key"], condition=Q(is_current=True), name="metric_one_current_version"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} (v{self.version})"

    @cached_property
    def parsed(self) -> definitions.Definition:
        return definitions.parse(self.definition)

    @property
    def unit(self) -> definitions.Unit:
        return self.parsed.unit

    @property
    def better(self) -> definitions.Better:
        return self.parsed.better

    @property
    def display_name(self) -> str:
        """Built-in names and definitions are catalogue text, translated on display."""
        return gettext(self.name) if self.is_builtin else self.name

    @property
    def display_description(self) -> str:
        return gettext(self.description) if self.is_builtin else self.description

    def narrowed(self, key: str, *where: dict[str, Any], name: str = "") -> Metric:
        """An unsaved KPI that is this one over only the records meeting `where` (filters added to its own). Filters on
        the record's own fields keep it a KPI that rollups can keep, as the dashboards' per stage, per loss reason and
        per source figures are (`rollups.roll_up_too`)."""
        definition = {**self.definition, "filters": [*self.definition.get("filters", []), *where]}
        return Metric(key=key, name=name or self.name, definition=definition)

    def clean(self) -> None:
        try:
            definitions.parse(self.definition)
        except definitions.DefinitionError as exc:
            raise ValidationError({"definition": [str(p) for p in exc.problems]}) from None


class TargetPeriod(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")
    CUSTOM = "custom", _("Custom range")


class TeamTarget(models.TextChoices):
    DIRECT = "direct", _("Set directly")
    MEMBERS = "members", _("Sum of the members' targets")


class Target(models.Model):
    """What a KPI (one version of it) should reach for a person, a team or the whole company in a period.

    The value is in the KPI's unit (a rate as a fraction: 0.3 is 30 %). A team's target is either
    set directly or the sum of its members' targets for the same KPI version and period.
    """

    metric = models.ForeignKey(Metric, verbose_name=_("KPI"), on_delete=models.PROTECT, related_name="targets")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="kpi_targets",
    )
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.CASCADE, related_name="kpi_targets"
    )
    period = models.CharField(_("period"), max_length=8, choices=TargetPeriod.choices, default=TargetPeriod.MONTH)
    start = models.DateField(_("from"))
    end = models.DateField(_("to (inclusive)"))
    value = models.DecimalField(_("target"), max_digits=20, decimal_places=6, null=True, blank=True)
    team_target = models.CharField(_("team target"), max_length=8, choices=TeamTarget.choices, default=TeamTarget.DIRECT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["start", "metric"]
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        indexes = [models.Index(fields=["start", "end"])]
        constraints = [
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="target_ends_after_start"),
            models.CheckConstraint(condition=Q(user__isnull=True) | Q(team__isnull=True), name="target_one_scope"),
            models.CheckConstraint(
                condition=Q(team_target=TeamTarget.DIRECT) | Q(team__isnull=False, value__isnull=True),
                name="target_members_sum_only_for_teams",
            ),
            models.CheckConstraint(
                condition=Q(team_target=TeamTarget.MEMBERS) | Q(value__isnull=False), name="target_direct_has_value"
            ),
            models.UniqueConstraint(
                fields=["metric", "user", "start", "end"], condition=Q(user__isnull=False), name="target_unique_person"
            ),
            models.UniqueConstraint(
                fields=["metric", "team", "start", "end"], condition=Q(team__isnull=False), name="target_unique_team"
            ),
            models.UniqueConstraint(
                fields=["metric", "start", "end"], condition=Q(user__isnull=True, team__isnull=True), name="target_unique_company"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric.key} {self.scope_label} {self.start}..{self.end}"

    @property
    def scope(self) -> str:
        if self.user_id:
            return "person"
        if self.team_id:
            return "team"
        return "company"

    @property
    def scope_label(self) -> str:
        if self.user_id:
            return str(self.user)
        if self.team_id:
            return str(self.team)
        return gettext("Company")

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.start and self.end:
            if self.end < self.start:
                errors["end"] = gettext("A target's period cannot end before it starts.")
            elif self.period != TargetPeriod.CUSTOM and (self.start, self.end) != period_bounds(self.period, self.start):
                errors["start"] = gettext("A %(period)s target runs from the first to the last day of the %(period)s.") % {
                    "period": self.get_period_display().lower()
                }
        if self.team_target == TeamTarget.MEMBERS and not self.team_id:
            errors["team_target"] = gettext("Only a team's target can be the sum of its members' targets.")
        if self.team_target == TeamTarget.DIRECT and self.value is None:
            errors["value"] = gettext("Enter the target value.")
        if self.user_id and self.team_id:
            errors["team"] = gettext("A target is for a person, a team or the company: not both a person and a team.")
        if errors:
            raise ValidationError(errors)


def period_bounds(period: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the month, quarter or year containing `day`."""
    every = Every(period)
    start = floor(day, every)
    months = {Every.MONTH: 1, Every.QUARTER: 3, Every.YEAR: 12}[every]
    return start, add_months(start, months) - dt.timedelta(days=1)


class RollupGrain(models.TextChoices):
    DAY = "d", _("day")
    YEAR = "y", _("year")


ROLLUP_MONTHS = tuple(f"m{number}" for number in range(1, 13))  # a year row's month columns, January first


class RollupState(models.Model):
    """That a leaf has rollups, in which time zone, and the newest record of its source they include."""

    leaf = models.CharField(_("leaf"), max_length=16, unique=True)
    source = models.CharField(_("source"), max_length=32)
    date = models.CharField(_("date field"), max_length=64)
    spec = models.JSONField(_("leaf"), help_text=_("The leaf as built, for inspection."))
    time_zone = models.CharField(_("time zone"), max_length=64)
    max_pk = models.BigIntegerField(_("newest record included"))
    built_at = models.DateTimeField(_("built"), default=timezone.now)

    class Meta:
        ordering = ["source", "date", "leaf"]
        verbose_name = _("KPI rollup state")
        verbose_name_plural = _("KPI rollup states")
        indexes = [models.Index(fields=["source"])]

    def __str__(self) -> str:
        return f"{self.source}.{self.date} {self.leaf}"


class Rollup(models.Model):
    """A pre-aggregated leaf (see kpi.plans): its value for one owner on one day, or in one year with each month's.

    A year row holds its twelve months side by side: a dashboard of 13 months by person then reads one row per
    leaf, person and year (about 8,000 at a million deals) instead of one per month (about 90,000), and a
    window's whole months are still a sum in SQL (a CASE over the month columns).

    Only an accelerator: the engine reads these instead of the records when they are fresh (see
    kpi.rollups), and every write through the ORM refreshes the buckets it touches. Owners are not
    a database constraint so that deleting a user only moves their rows to "unassigned".
    """

    state = models.ForeignKey(
        "RollupState", verbose_name=_("leaf"), on_delete=models.CASCADE, related_name="rows", db_index=False
    )  # the covering index below starts with it
    grain = models.CharField(_("grain"), max_length=1, choices=RollupGrain.choices)
    bucket = models.DateField(_("day or year"), help_text=_("The day, or the first day of the year."))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    # A float, as the engine computes: a dashboard reads tens of thousands of these, and casting numerics costs.
    value = models.FloatField(_("value"), help_text=_("The day's value, or the year's total."))
    # A year row's months (null on day rows); a model field each, so SQL can add up any run of them.
    m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12 = (
        models.FloatField(MONTHS[number], null=True, blank=True) for number in range(1, 13)
    )
    # The same months as one value of 12 big-endian doubles: a dashboard by person ships these as they are
    # (packing 12 numbers per row at read time was a third of its query at a million deals).
    months = models.BinaryField(_("months, packed"), null=True, blank=True, editable=False)

    objects = VisibleQuerySet.as_manager()  # the same visibility rule as the records they add up

    class Meta:
        ordering = ["grain", "state", "bucket"]
        verbose_name = _("KPI rollup")
        verbose_name_plural = _("KPI rollups")
        # Every column a dashboard reads is in the key: index-only scans (INCLUDE would warn on SQLite).
        indexes = [
            models.Index(fields=["state", "grain", "bucket", "owner", "value", *ROLLUP_MONTHS, "months"], name="kpi_rollup_rows"),
            # A write refreshes one owner's year from their day rows: without the owner before the day, that read
            # went through every owner's days of the year (~100 ms a write at a million deals; 8 ms with it).
            models.Index(
                fields=["state", "owner", "bucket", "value"], condition=models.Q(grain="d"), name="kpi_rollup_owner_days"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.state_id} {self.grain} {self.bucket} {self.owner_id}: {self.value}"
