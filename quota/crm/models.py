"""Companies, contacts, leads, pipelines, deals and their history."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from quota.core.money import currency_field, money_field, rate_field
from quota.core.visibility import VisibleQuerySet
from quota.crm import builtins
from quota.crm.choices import (
    BusinessType,
    CustomFieldTarget,
    CustomFieldType,
    DealStatus,
    LeadDirection,
    LeadStatus,
    Lifecycle,
)
from quota.crm.custom_fields import clean_custom_values

OWNER = settings.AUTH_USER_MODEL


def owner_field() -> models.ForeignKey:
    return models.ForeignKey(OWNER, verbose_name=_("owner"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")


class ReferenceRow(models.Model):
    """A row of reference data Quota ships built in (a stage, a loss reason ...), or one the company adds.

    A built-in row carries its `key` and is shown in the reader's language while its name is the one it shipped
    with; a name the company typed, or changed, is shown as typed.
    """

    builtin_names: ClassVar[dict[str, str]] = {}  # key -> the shipped name (marked for translation)

    key = models.SlugField(
        _("key"), max_length=50, blank=True, default="", help_text=_("Set on built-in rows only: their name is shown translated.")
    )
    name: Any  # each model declares its own (unique or not)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return builtins.display_name(self.builtin_names, self.builtin_key, self.name)

    @property
    def builtin_key(self) -> str | None:
        return self.key


class ChurnReason(ReferenceRow):
    """Why a customer stopped being one: a short list, like loss reasons, so churn can be counted by reason."""

    builtin_names = builtins.CHURN_REASONS

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("churn reason")
        verbose_name_plural = _("churn reasons")


def stage_of(customer_since: Any, churned_on: Any) -> str:
    """What `_lifecycle()` computes in the database, for an instance just saved (one rule, two spellings)."""
    if churned_on is not None:
        return Lifecycle.CHURNED
    return Lifecycle.PROSPECT if customer_since is None else Lifecycle.CUSTOMER


def _lifecycle() -> models.Case:
    """The stage of a company's life as a customer, derived from its two dates (so it cannot disagree with them)."""
    return models.Case(
        models.When(churned_on__isnull=False, then=models.Value(Lifecycle.CHURNED)),
        models.When(customer_since__isnull=False, then=models.Value(Lifecycle.CUSTOMER)),
        default=models.Value(Lifecycle.PROSPECT),
    )


class Company(models.Model):
    """An organisation we sell to: a prospect, then a customer from a date (its first won deal, by default), maybe churned."""

    name = models.CharField(_("name"), max_length=200)
    domain = models.CharField(_("web domain"), max_length=200, blank=True, default="")
    industry = models.CharField(_("industry"), max_length=120, blank=True, default="")
    country = models.CharField(_("country"), max_length=80, blank=True, default="")
    city = models.CharField(_("city"), max_length=120, blank=True, default="")
    phone = PhoneNumberField(_("phone"), blank=True, default="")
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    annual_revenue = money_field(_("annual revenue"), null=True, blank=True)
    owner = owner_field()
    external_id = models.CharField(_("external id"), max_length=100, blank=True, default="")
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    customer_since = models.DateField(
        _("customer since"), null=True, blank=True, help_text=_("Empty: a prospect. Set on its first won deal if empty.")
    )
    churned_on = models.DateField(_("churned on"), null=True, blank=True, help_text=_("The day it stopped being a customer."))
    churn_reason = models.ForeignKey(
        ChurnReason,
        verbose_name=_("churn reason"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="companies",
    )
    lifecycle = models.GeneratedField(
        expression=_lifecycle(),
        output_field=models.CharField(max_length=8, choices=Lifecycle.choices),
        db_persist=True,
        choices=Lifecycle.choices,  # the field's own, for get_lifecycle_display and the filters
        verbose_name=_("lifecycle"),
    )

    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        indexes = [
            models.Index(fields=["domain"]),
            models.Index(fields=["external_id"]),
            models.Index(fields=["customer_since"], name="company_customer_since"),
            models.Index(fields=["churned_on"], name="company_churned_on"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(churned_on__isnull=True) | Q(customer_since__isnull=False, churned_on__gte=F("customer_since")),
                name="company_churned_after_customer_since",
                violation_error_message=_("A company churns on or after the day it became a customer."),
            ),
            models.CheckConstraint(
                condition=Q(churn_reason__isnull=True) | Q(churned_on__isnull=False),
                name="company_churn_reason_needs_churned_on",
                violation_error_message=_("Only a churned company has a churn reason."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        # The database derives the stage; the saved instance shows the same one without reading it back.
        self.lifecycle = stage_of(self.customer_since, self.churned_on)

    def clean(self) -> None:
        self.custom = clean_custom_values(target="company", values=self.custom)
        if self.churned_on is not None and self.customer_since is None:
            raise ValidationError({"customer_since": _("Say since when it was a customer before it churned.")})
        if self.churned_on is not None and self.customer_since is not None and self.churned_on < self.customer_since:
            raise ValidationError({"churned_on": _("A company churns on or after the day it became a customer.")})
        if self.churn_reason_id is not None and self.churned_on is None:
            raise ValidationError({"churn_reason": _("Only a churned company has a churn reason: set the churn date.")})


class Contact(models.Model):
    """A person at a company (or on their own)."""

    first_name = models.CharField(_("first name"), max_length=100, blank=True, default="")
    last_name = models.CharField(_("last name"), max_length=100)
    email = models.EmailField(_("e-mail"), blank=True, default="")
    phone = PhoneNumberField(_("phone"), blank=True, default="")
    job_title = models.CharField(_("job title"), max_length=120, blank=True, default="")
    company = models.ForeignKey(
        Company, verbose_name=_("company"), null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    owner = owner_field()
    external_id = models.CharField(_("external id"), max_length=100, blank=True, default="")
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [models.Index(fields=["email"])]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def clean(self) -> None:
        self.custom = clean_custom_values(target="contact", values=self.custom)


class LeadSource(ReferenceRow):
    """Where a lead came from: the five built-in sources plus any the company adds."""

    builtin_names = builtins.SOURCES

    key = models.SlugField(_("key"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    direction = models.CharField(
        _("direction"),
        max_length=8,
        choices=LeadDirection.choices,
        blank=True,
        default="",
        help_text=_("Inbound: the lead reached out; outbound: we reached out. Empty when it is neither or both."),
    )
    is_system = models.BooleanField(_("built in"), default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("lead source")
        verbose_name_plural = _("lead sources")

    @property
    def builtin_key(self) -> str | None:
        return self.key if self.is_system else None


class Lead(models.Model):
    """Someone who may buy: not yet a contact with a deal."""

    title = models.CharField(_("title"), max_length=200)
    first_name = models.CharField(_("first name"), max_length=100, blank=True, default="")
    last_name = models.CharField(_("last name"), max_length=100, blank=True, default="")
    company_name = models.CharField(_("company name"), max_length=200, blank=True, default="")
    email = models.EmailField(_("e-mail"), blank=True, default="")
    phone = PhoneNumberField(_("phone"), blank=True, default="")
    source = models.ForeignKey(LeadSource, verbose_name=_("source"), on_delete=models.PROTECT, related_name="leads")
    status = models.CharField(_("status"), max_length=16, choices=LeadStatus.choices, default=LeadStatus.OPEN)
    owner = owner_field()
    campaign = models.ForeignKey(
        "marketing.Campaign", verbose_name=_("campaign"), null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    utm = models.JSONField(_("UTM parameters"), default=dict, blank=True)
    disqualified_reason = models.CharField(_("disqualification reason"), max_length=200, blank=True, default="")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True)
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    company = models.ForeignKey(
        Company, verbose_name=_("company"), null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    external_id = models.CharField(_("external id"), max_length=100, blank=True, default="")
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [models.Index(fields=["created_at"]), models.Index(fields=["owner", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=LeadStatus.CONVERTED, converted_at__isnull=False) | ~Q(status=LeadStatus.CONVERTED),
                name="lead_converted_has_date",
            ),
            models.CheckConstraint(
                condition=Q(converted_at__isnull=True) | Q(converted_at__gte=F("created_at")),
                name="lead_converted_after_created",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        self.custom = clean_custom_values(target="lead", values=self.custom)


class Pipeline(ReferenceRow):
    """A sales process: an ordered list of stages a deal moves through."""

    builtin_names = builtins.PIPELINES

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        ordering = ["-is_default", "name"]
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="pipeline_one_default"),
        ]


class Stage(ReferenceRow):
    """An open stage of a pipeline, with the chance that a deal in it is won."""

    builtin_names = builtins.STAGES

    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"))
    probability = models.PositiveSmallIntegerField(_("win probability (%)"), help_text=_("0 to 100"))

    class Meta:
        ordering = ["pipeline", "position"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "position"], name="stage_unique_position"),
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_unique_name"),
            models.CheckConstraint(condition=Q(probability__lte=100), name="stage_probability_max_100"),
        ]

    def __str__(self) -> str:
        return f"{self.pipeline.display_name}: {self.display_name}" if self.pipeline_id else self.display_name


class LossReason(ReferenceRow):
    """Why a deal was lost, and when to try again."""

    builtin_names = builtins.LOSS_REASONS

    name = models.CharField(_("name"), max_length=100, unique=True)
    follow_up_after_days = models.PositiveIntegerField(
        _("follow up after (days)"), null=True, blank=True, help_text=_("Empty: no automatic follow-up.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("loss reason")
        verbose_name_plural = _("loss reasons")


class Deal(models.Model):
    """A sales opportunity: its value, stage, owner and outcome."""

    title = models.CharField(_("title"), max_length=200)
    company = models.ForeignKey(
        Company, verbose_name=_("company"), null=True, blank=True, on_delete=models.PROTECT, related_name="deals"
    )
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), null=True, blank=True, on_delete=models.SET_NULL, related_name="deals"
    )
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="deals")
    owner = owner_field()
    amount = money_field(_("amount"))
    currency = currency_field()
    exchange_rate = rate_field()
    status = models.CharField(_("status"), max_length=8, choices=DealStatus.choices, default=DealStatus.OPEN)
    loss_reason = models.ForeignKey(
        LossReason, verbose_name=_("loss reason"), null=True, blank=True, on_delete=models.PROTECT, related_name="deals"
    )
    loss_note = models.TextField(_("loss note"), blank=True, default="")
    business_type = models.CharField(_("business"), max_length=8, choices=BusinessType.choices, default=BusinessType.NEW)
    source = models.ForeignKey(
        LeadSource, verbose_name=_("source"), null=True, blank=True, on_delete=models.SET_NULL, related_name="deals"
    )
    lead = models.ForeignKey(Lead, verbose_name=_("lead"), null=True, blank=True, on_delete=models.SET_NULL, related_name="deals")
    won_back_from = models.ForeignKey(
        "self", verbose_name=_("won back from"), null=True, blank=True, on_delete=models.SET_NULL, related_name="win_backs"
    )
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    stage_changed_at = models.DateTimeField(_("in stage since"), default=timezone.now)
    external_id = models.CharField(_("external id"), max_length=100, blank=True, default="")
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        indexes = [
            models.Index(fields=["status", "closed_at"]),
            models.Index(fields=["owner", "status", "closed_at"]),
            models.Index(fields=["created_at"]),
            models.Index(fields=["external_id"]),
            # Imports find a deal by its external id whatever its letter case, a batch of rows at a time.
            models.Index(Lower("external_id"), name="deal_external_id_folded"),
            models.Index(fields=["amount"]),
            # The pipeline board: the most valuable open deals of each stage, in company currency, and each stage's
            # count and value from the index alone (the amount, rate and owner are carried for those totals).
            models.Index(
                F("pipeline"),
                F("stage"),
                (F("amount") * F("exchange_rate")).desc(),
                F("id").desc(),
                include=["amount", "exchange_rate", "owner"],
                condition=Q(status="open"),
                name="deal_open_by_value",
            ),
            # A customer's first purchase: "no earlier won deal of the same company", probed once per won deal.
            models.Index(fields=["company", "status", "closed_at"]),
            # Pipeline, funnel and forecast: open deals per stage read from the index alone (an index-only scan).
            models.Index(
                fields=["stage", "created_at"],
                include=["amount", "exchange_rate", "expected_close_date", "owner"],
                condition=Q(status="open"),
                name="deal_open_by_stage",
            ),
            # The forecast's ranges and targets: the open deals expected to close in a period (a month's, not all
            # the open deals' rows read and filtered), from the index alone (the id joins their scores).
            models.Index(
                fields=["expected_close_date"],
                include=["created_at", "amount", "exchange_rate", "stage", "owner", "id"],
                condition=Q(status="open"),
                name="deal_open_by_close",
            ),
            # Won deals of a period (new customers, won revenue by source or stage): their company, source,
            # stage, owner and value from the index alone, not a heap page per deal.
            models.Index(
                fields=["closed_at"],
                include=["company", "source", "stage", "owner", "amount", "exchange_rate"],
                condition=Q(status="won"),
                name="deal_won_by_close",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="deal_amount_not_negative"),
            models.CheckConstraint(condition=Q(exchange_rate__gt=0), name="deal_rate_positive"),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=F("created_at")),
                name="deal_closed_after_created",
            ),
            models.CheckConstraint(
                condition=Q(status=DealStatus.OPEN, closed_at__isnull=True)
                | Q(status__in=[DealStatus.WON, DealStatus.LOST], closed_at__isnull=False),
                name="deal_closed_iff_won_or_lost",
            ),
            models.CheckConstraint(
                condition=~Q(status=DealStatus.LOST) | Q(loss_reason__isnull=False),
                name="deal_lost_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def hygiene_flags(self) -> str:
        """ "Overdue", "Stale" or both, for a deal read through `crm.selectors.with_hygiene_flags` ("" otherwise)."""
        flags = [
            _("Overdue") if getattr(self, "is_overdue", False) else "",
            _("Stale") if getattr(self, "is_stale", False) else "",
        ]
        return ", ".join(str(flag) for flag in flags if flag)

    def clean(self) -> None:
        self.custom = clean_custom_values(target="deal", values=self.custom)
        errors: dict[str, Any] = {}
        if self.amount is not None and self.amount < 0:
            errors["amount"] = _("The amount cannot be negative.")
        if self.stage_id and self.pipeline_id and self.stage.pipeline_id != self.pipeline_id:
            errors["stage"] = _("This stage belongs to another pipeline.")
        if self.status == DealStatus.LOST and not self.loss_reason_id:
            errors["loss_reason"] = _("Say why the deal was lost.")
        if self.closed_at and self.created_at and self.closed_at < self.created_at:
            errors["closed_at"] = _("A deal cannot close before it was created.")
        if self.status == DealStatus.OPEN and self.closed_at:
            errors["closed_at"] = _("An open deal has no close date; mark it won or lost instead.")
        if self.status != DealStatus.OPEN and not self.closed_at:
            errors["closed_at"] = _("A won or lost deal needs the date it closed.")
        if errors:
            raise ValidationError(errors)


class DealStageChange(models.Model):
    """One move of a deal: between stages, or to won or lost. The history KPIs and audits read."""

    deal = models.ForeignKey(Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(
        Stage, verbose_name=_("from stage"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, verbose_name=_("to stage"), on_delete=models.PROTECT, related_name="+")
    from_status = models.CharField(_("from status"), max_length=8, choices=DealStatus.choices, blank=True, default="")
    to_status = models.CharField(_("to status"), max_length=8, choices=DealStatus.choices, default=DealStatus.OPEN)
    changed_at = models.DateTimeField(_("changed"), default=timezone.now)
    changed_by = models.ForeignKey(
        OWNER, verbose_name=_("changed by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    owner_path = "deal__owner"
    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["deal", "changed_at", "id"]
        verbose_name = _("deal stage change")
        verbose_name_plural = _("deal stage changes")
        indexes = [models.Index(fields=["changed_at"])]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_id} -> {self.to_stage_id} ({self.to_status})"


class DealState(models.Model):
    """What a deal was from `valid_from` until `valid_to` (None: still is): the pipeline's history.

    A deal's states tile its life with no gap and no overlap: the first begins when it was created, each
    ends where the next begins, and exactly one is current. A new state is written whenever a tracked
    field changes (stage, status, amount, currency and rate, expected close date, owner) by the deal
    services, imports and the seed (`crm.history`). `amount` is None where the value was not known then
    (a file that gives only the value a deal closed at says nothing of its value while it was open).
    """

    deal = models.ForeignKey(Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="states")
    valid_from = models.DateTimeField(_("from"))
    valid_to = models.DateTimeField(_("until"), null=True, blank=True)
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=8, choices=DealStatus.choices)
    amount = money_field(_("amount"), null=True, blank=True, default=None)
    currency = currency_field()
    exchange_rate = rate_field()
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    owner = owner_field()

    owner_path = "owner"  # a rep reads the history of the pipeline that was theirs
    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["deal", "valid_from", "id"]
        verbose_name = _("deal state")
        verbose_name_plural = _("deal states")
        indexes = [
            models.Index(fields=["deal", "valid_from"]),
            # The pipeline as it stood: open states by their expected close date, each read from the index.
            models.Index(
                fields=["expected_close_date", "valid_from"],
                include=["valid_to", "deal", "owner", "amount", "exchange_rate"],
                condition=Q(status="open"),
                name="dealstate_open_by_close",
            ),
            # The closes that began in a span (the waterfall's steps out of the slice into a close).
            models.Index(
                fields=["status", "valid_from"],
                include=["deal"],
                condition=Q(status__in=[DealStatus.WON, DealStatus.LOST]),
                name="dealstate_closes",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")), name="dealstate_interval_forward"
            ),
            models.UniqueConstraint(fields=["deal"], condition=Q(valid_to__isnull=True), name="dealstate_one_current"),
        ]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.status} {self.stage_id} {self.amount} [{self.valid_from}, {self.valid_to})"


class CustomField(models.Model):
    """A typed field the company adds to companies, contacts, leads or deals (values live in `custom`)."""

    target = models.CharField(_("applies to"), max_length=16, choices=CustomFieldTarget.choices)
    key = models.SlugField(_("key"), max_length=50)
    label = models.CharField(_("label"), max_length=100)
    field_type = models.CharField(_("type"), max_length=8, choices=CustomFieldType.choices)
    choices = models.JSONField(_("choices"), default=list, blank=True, help_text=_("For choice fields: the allowed values."))
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["target", "position", "label"]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        constraints = [models.UniqueConstraint(fields=["target", "key"], name="customfield_unique_key")]

    def __str__(self) -> str:
        return f"{self.get_target_display()}: {self.label}"

    def clean(self) -> None:
        if self.field_type == CustomFieldType.CHOICE:
            if not isinstance(self.choices, list) or not self.choices or not all(isinstance(c, str) and c for c in self.choices):
                raise ValidationError({"choices": _("A choice field needs a list of non-empty text values.")})
        elif self.choices:
            raise ValidationError({"choices": _("Only choice fields have choices.")})
