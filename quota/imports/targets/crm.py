"""Companies, contacts, leads and deals. Deals bring their stage history with them."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any, ClassVar
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from quota.crm.choices import DealStatus
from quota.crm.history import initial_states, rebuild_from_stage_changes, record_changes
from quota.crm.lifecycle import fill_customer_since
from quota.crm.models import Company, Contact, Deal, DealStageChange, DealState, Lead, Pipeline, Stage
from quota.imports.bulk import bulk_insert, record_from
from quota.imports.keys import fold
from quota.imports.problems import ProblemKind
from quota.imports.targets.base import FieldKind, RowWork, StepContext, Target, TargetField
from quota.imports.targets.people import NAME, split_name


def _split_name_into(work: RowWork) -> None:
    full_name = work.values.get("name")
    if full_name:
        first, last = split_name(full_name)
        work.values.setdefault("first_name", first)
        work.values.setdefault("last_name", last)


def bare_domain(value: str) -> str:
    """'https://www.Example.com/about' -> 'example.com', so the same company is found by any spelling."""
    text = value.strip().lower()
    host = urlsplit(text if "//" in text else f"//{text}").hostname or text
    return host.removeprefix("www.")


# A subscription file says whether a customer left ("Churn: Yes") more often than when: the flag maps here.
CHURNED = TargetField(name="churned", kind=FieldKind.BOOLEAN, label="churned (yes/no)", virtual=True)


class CompanyTarget(Target):
    name = "companies"
    model = Company
    custom_target = "company"
    match_fields = ("external_id", "domain", "name")
    company_currency_fields = frozenset({"annual_revenue"})

    def virtual_fields(self) -> list[TargetField]:
        return [CHURNED]

    def derive(self, work: RowWork) -> None:
        if work.values.get("domain"):
            work.values["domain"] = bare_domain(work.values["domain"])

    def prepare(self, work: RowWork, ctx: StepContext) -> None:
        churned = work.values.get("churned")
        company = work.instance
        assert isinstance(company, Company)
        if churned is False:
            if work.values.get("churned_on") or work.values.get("churn_reason"):
                work.problem(ProblemKind.INVALID_VALUE, "not churned, yet the row gives a churn date or reason", field="churned")
                return
            company.churned_on, company.churn_reason = None, None  # a customer again (or still)
        elif churned is True and company.churned_on is None:
            # The import's day is the one date known for sure; the report says it was used.
            company.churned_on = timezone.localdate(ctx.now)
            work.problem(
                ProblemKind.DEFAULT_USED,
                f"churned with no churn date: recorded as churned on {company.churned_on}",
                field="churned",
            )
        if company.churned_on is not None and company.customer_since is None:
            company.customer_since = company.churned_on
            work.problem(
                ProblemKind.DEFAULT_USED,
                f"churned with no customer-since date: recorded as a customer since {company.customer_since}",
                field="churned_on" if "churned_on" in work.values else "churned",
            )


class ContactTarget(Target):
    name = "contacts"
    model = Contact
    custom_target = "contact"
    match_fields = ("external_id", "email")
    stand_ins: ClassVar[dict[str, tuple[str, ...]]] = {"last_name": ("name",)}

    def virtual_fields(self) -> list[TargetField]:
        return [NAME]

    def derive(self, work: RowWork) -> None:
        _split_name_into(work)


class LeadTarget(Target):
    name = "leads"
    model = Lead
    custom_target = "lead"
    match_fields = ("external_id", "email")
    stand_ins: ClassVar[dict[str, tuple[str, ...]]] = {"title": ("name", "last_name", "company_name", "email")}

    def virtual_fields(self) -> list[TargetField]:
        return [NAME]

    def derive(self, work: RowWork) -> None:
        _split_name_into(work)
        if not work.values.get("title"):
            person = " ".join(filter(None, [work.values.get("first_name"), work.values.get("last_name")]))
            title = person or work.values.get("company_name") or work.values.get("email")
            if title:
                work.values["title"] = title


class DealTarget(Target):
    """Deals. A new deal's history is what the services would have recorded: opened in its stage at
    its created date, then won or lost at its close date. An update that changes the stage or the
    outcome records that move, like `deal_move_stage` and `deal_close_*` do."""

    name = "deals"
    model = Deal
    custom_target = "deal"
    match_fields = ("external_id",)
    exclude = frozenset({"exchange_rate", "won_back_from", "lead"})
    filled_when_blank = frozenset({"pipeline", "stage"})
    scopes: ClassVar[dict[str, str]] = {"stage": "pipeline"}

    def scope_default(self, field_name: str, ctx: StepContext) -> models.Model | None:
        if field_name != "pipeline":
            return None
        if "default_pipeline" not in ctx.cache:
            ctx.cache["default_pipeline"] = Pipeline.objects.filter(is_default=True).first()
        return ctx.cache["default_pipeline"]

    def default_note(self, field_name: str, used: str) -> str | None:
        if field_name == "loss_reason":
            return f"a lost deal with no loss reason: recorded as {used!r}"
        return None

    def _first_stage(self, pipeline: Pipeline, ctx: StepContext) -> Stage | None:
        firsts: dict[int, Stage | None] = ctx.cache.setdefault("first_stages", {})
        if pipeline.pk not in firsts:
            firsts[pipeline.pk] = pipeline.stages.order_by("position").first()
        return firsts[pipeline.pk]

    def prepare(self, work: RowWork, ctx: StepContext) -> None:
        deal = work.instance
        assert isinstance(deal, Deal)
        if deal.pipeline_id is None:
            pipeline = self.scope_default("pipeline", ctx)
            if pipeline is None:
                work.problem(ProblemKind.REQUIRED_BLANK, "there is no default pipeline; map a pipeline column", field="pipeline")
                return
            deal.pipeline = pipeline
        if deal.stage_id is None:
            stage = self._first_stage(deal.pipeline, ctx)
            if stage is None:
                work.problem(ProblemKind.INVALID_RECORD, f"the pipeline {deal.pipeline} has no stages", field="stage")
                return
            deal.stage = stage
        self._outcome_rules(work, deal)
        self._dates(work, deal, ctx)
        try:
            deal.exchange_rate = ctx.rate(deal.currency, deal.created_at.date())
        except ValidationError as exc:
            work.problem(ProblemKind.NO_EXCHANGE_RATE, " ".join(exc.messages), field="currency", value=deal.currency)

    def _outcome_rules(self, work: RowWork, deal: Deal) -> None:
        reopened = work.original is not None and work.original.status != DealStatus.OPEN and deal.status == DealStatus.OPEN
        if deal.status == DealStatus.OPEN and "closed_at" in work.values and _one_close_date_column(work):
            deal.closed_at = None  # the date an open deal is expected to close (Salesforce's and HubSpot's "Close Date")
        if deal.status == DealStatus.OPEN:
            if reopened and "closed_at" not in work.values:
                deal.closed_at = None
            for name, what in (("closed_at", "no close date"), ("amount", "no value")):
                if name in work.blank:
                    work.problem(ProblemKind.BLANK_UNTIL_CLOSED, f"{what} yet: the deal is open", field=name, value="")
        elif deal.status == DealStatus.WON and "amount" in work.blank and work.creating:
            work.problem(ProblemKind.BLANK_REFERENCE, "a won deal with no value: its amount is 0", field="amount", value="")
        if deal.status != DealStatus.LOST and deal.loss_reason_id is not None:
            if "loss_reason" in work.defaulted:
                del work.defaulted["loss_reason"]  # the default is for lost deals only
            elif "loss_reason" in work.values:
                work.problem(ProblemKind.IGNORED_VALUE, "a loss reason applies to lost deals only", field="loss_reason")
            deal.loss_reason = None

    def _dates(self, work: RowWork, deal: Deal, ctx: StepContext) -> None:
        if "stage_changed_at" in work.values:
            return
        if work.creating:
            deal.stage_changed_at = deal.created_at
        elif work.original is not None and work.original.stage_id != deal.stage_id:
            deal.stage_changed_at = ctx.now

    def after_write(self, created: list[RowWork], updated: list[RowWork], ctx: StepContext) -> None:
        changes: list[DealStageChange] = []
        states: list[DealState] = []
        for work in created:
            deal = work.instance
            assert isinstance(deal, Deal)
            known = initial_states(deal, amount_known_before_close=ctx.amount_known_before_close)
            if not ctx.amount_known_before_close and deal.status == DealStatus.OPEN:
                known[-1].amount = None  # a value at close says nothing of an open deal's value
            states += known
            changes.append(_change(deal, None, "", deal.created_at, ctx, to_status=DealStatus.OPEN))
            if deal.status != DealStatus.OPEN:
                assert deal.closed_at is not None  # Deal.clean requires it
                changes.append(_change(deal, deal.stage, DealStatus.OPEN, deal.closed_at, ctx))
        moments: list[tuple[Deal, dt.datetime]] = []
        for work in updated:
            before, deal = work.original, work.instance
            assert isinstance(before, Deal) and isinstance(deal, Deal)
            closing = before.status == DealStatus.OPEN and deal.status != DealStatus.OPEN
            at = deal.closed_at if closing and deal.closed_at else ctx.now
            moments.append((deal, at))
            if (before.stage_id, before.status) == (deal.stage_id, deal.status):
                continue
            changes.append(_change(deal, before.stage, before.status, at, ctx))
        record_changes(moments)
        bulk_insert(DealStageChange, changes)
        bulk_insert(DealState, states)
        # Companies whose first won deal this is become customers on its day, as deal_close_won does: one UPDATE.
        won = {w.instance.company_id for w in [*created, *updated] if w.instance.status == DealStatus.WON}  # type: ignore[union-attr]
        won.discard(None)
        if won:
            fill_customer_since(Company.objects.filter(pk__in=won), Deal)  # its UPDATE renews their version


def _one_close_date_column(work: RowWork) -> bool:
    """The file has one close date for both: the expected one while open, the actual one once closed."""
    column = work.sources.get("closed_at")
    return column is not None and column == work.sources.get("expected_close_date")


def _change(
    deal: Deal, from_stage: Stage | None, from_status: str, at: dt.datetime, ctx: StepContext, **kwargs: str
) -> DealStageChange:
    # Made by the hundred thousand: by field values, without a model instance's construction cost.
    change = record_from(
        DealStageChange,
        {
            "deal_id": deal.pk,
            "from_stage_id": from_stage.pk if from_stage is not None else None,
            "to_stage_id": deal.stage_id,
            "from_status": from_status,
            "to_status": kwargs.get("to_status", deal.status),
            "changed_at": at,
            "changed_by_id": ctx.by.pk if ctx.by is not None else None,
        },
    )
    return change  # type: ignore[return-value]


class DealHistoryTarget(Target):
    """A deal's history: one row per change (the deal's external id, when, the stage and/or the outcome, and
    optionally its amount and expected close date then), as Salesforce's opportunity history exports it.

    The rows become stage changes, and each deal they name gets its changes' chain and its states rebuilt
    from all its changes (crm.history.rebuild_from_stage_changes): the pipeline as it stood on any past day.
    A row at the moment of a change already recorded replaces it, so importing the file again changes nothing.
    A row without a stage keeps the one the deal was in; without a status, the deal was open.
    """

    name = "deal_history"
    model = DealStageChange
    match_fields = ()  # a change has no key of its own: one at an existing change's moment replaces it (see above)
    exclude = frozenset({"from_stage", "to_stage", "from_status", "to_status"})

    def fields(self) -> dict[str, TargetField]:
        found = super().fields()
        for name in ("deal", "changed_at"):
            found[name] = replace(found[name], required=True)
        return found

    def virtual_fields(self) -> list[TargetField]:
        statuses = tuple((str(value), str(label)) for value, label in DealStatus.choices)
        return [
            TargetField(name="stage", kind=FieldKind.TEXT, label="stage", virtual=True),
            TargetField(name="status", kind=FieldKind.CHOICE, label="status", choices=statuses, virtual=True),
            TargetField(name="amount", kind=FieldKind.DECIMAL, label="amount", decimal_places=2, virtual=True),
            TargetField(name="expected_close_date", kind=FieldKind.DATE, label="expected close date", virtual=True),
        ]

    def _stages(self, pipeline_id: int, ctx: StepContext) -> dict[str, Stage]:
        stages: dict[int, dict[str, Stage]] = ctx.cache.setdefault("stages_by_pipeline", {})
        if pipeline_id not in stages:
            stages[pipeline_id] = {fold(stage.name): stage for stage in Stage.objects.filter(pipeline_id=pipeline_id)}
        return stages[pipeline_id]

    def prepare(self, work: RowWork, ctx: StepContext) -> None:
        change = work.instance
        assert isinstance(change, DealStageChange)
        deal = work.values.get("deal")
        if not isinstance(deal, Deal) or change.changed_at is None:
            return  # not found or blank, and reported
        if change.changed_at < deal.created_at:
            work.problem(
                ProblemKind.INVALID_VALUE,
                f"before the deal was created ({deal.created_at.isoformat()}): a change cannot precede its deal",
                field="changed_at",
            )
        stage_name, status = work.values.get("stage"), work.values.get("status")
        if not stage_name and not status:
            work.problem(
                ProblemKind.REQUIRED_BLANK, "a change needs a stage or a status (open, won, lost)", field="stage", value=""
            )
            return
        change.to_stage = deal.stage  # a row without a stage: the stage the deal was in, set once all are written
        if stage_name:
            stage = self._stages(deal.pipeline_id, ctx).get(fold(stage_name))
            if stage is None:
                work.problem(
                    ProblemKind.NOT_FOUND, f"there is no stage {stage_name!r} in the pipeline {deal.pipeline}", field="stage"
                )
                return
            change.to_stage = stage
        change.to_status = status or DealStatus.OPEN
        amount = work.values.get("amount")
        if amount is not None and amount < 0:
            work.problem(ProblemKind.INVALID_VALUE, "an amount cannot be negative", field="amount")

    def after_write(self, created: list[RowWork], updated: list[RowWork], ctx: StepContext) -> None:
        imported: dict[int, dict[str, Any]] = {}
        stage_given: set[int] = set()
        for work in created:
            change = work.instance
            assert isinstance(change, DealStageChange)
            imported[change.pk] = {name: work.values[name] for name in ("amount", "expected_close_date") if name in work.values}
            if work.values.get("stage"):
                stage_given.add(change.pk)
        deal_ids = sorted({work.instance.deal_id for work in created})  # type: ignore[union-attr]
        rebuild_from_stage_changes(deal_ids, imported=imported, stage_given=stage_given, now=ctx.now)
