"""The authorization matrix: every page and API operation, for every role, against the README's roles table.

`quota/core/tests/test_authorization_matrix.py` runs it. This module holds its three parts:

- **the world** (`build_world`): two sales teams, North and South, a principal for every role, and every
  kind of record twice, once owned by North's rep and once by South's rep ("another team's rep").
  Every record carries a marker in the field its list shows first: "Ursa" for North's, "Lyra" for
  South's, so a response that shows a record someone may not read is found by a substring search.
- **the routes** (`page_routes`, `api_operations`): walked from `get_resolver()` and from the OpenAPI
  schema (drf-spectacular), so a new page or endpoint is in the matrix without anyone adding it.
  A route's path parameters are filled with real objects (`fill`), its policy is looked up in a
  small table by URL name (`PAGE_POLICIES`) or API view (`api_policy`). A route the tables do not
  know fails the matrix: someone must say who may use it.
- **the expectations**: written from the roles table (`reads`, `changes`, the role sets below), not
  from `core.permissions`, so the matrix checks the rules rather than repeating them.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from drf_spectacular.generators import SchemaGenerator
from openpyxl import load_workbook
from rest_framework.views import APIView

from quota.accounts.models import Role, Team
from quota.activities.models import Activity, ActivityKind
from quota.api.kpis import KpiViewSet, TargetProgressViewSet
from quota.api.views import ConfigurationViewSet, RecordViewSet
from quota.core.views import RecordExportView, RecordListView
from quota.core.visibility import VisibleQuerySet
from quota.crm import services as crm
from quota.crm.models import ChurnReason, Company, CustomField, Deal, DealStageChange, Pipeline, Stage
from quota.dashboards.models import DashboardCard
from quota.imports import services as imports
from quota.imports.models import ImportRun
from quota.notifications.models import Notification
from quota.reports.models import Report, ReportDelivery
from quota.sales.models import OfferLine
from quota.testing import factories as f
from quota.webforms.models import WebForm
from quota.webhooks.api import WebhookDeliveryViewSet, WebhookSubscriptionViewSet
from quota.webhooks.models import WebhookDelivery, WebhookSubscription

# --------------------------------------------------------------------------- who asks

NORTH, SOUTH, ONLY = "north", "south", "only"  # which of an object's copies: North's, South's, the one there is
MARKERS = {NORTH: "ursa", SOUTH: "lyra"}  # lower case; every record of a team carries its marker


@dataclass(frozen=True)
class Principal:
    name: str
    role: str | None  # None: not signed in
    team: str | None = None

    @property
    def signed_in(self) -> bool:
        return self.role is not None


PRINCIPALS = (
    Principal("anonymous", None),
    Principal("admin", "admin"),
    Principal("director", "director"),
    Principal("manager", "manager", NORTH),
    Principal("rep", "rep", NORTH),  # owns North's records
    Principal("marketing", "marketing", "marketing"),
    Principal("service", "service", "service"),
    Principal("viewer", "viewer", NORTH),
    Principal("south_rep", "rep", SOUTH),  # another team's rep: owns South's records
)

# The roles table of the README, restated.
READS_EVERYTHING = {"admin", "director", "marketing", "service"}
CHANGES_EVERYTHING = {"admin", "director"}
CREATORS = {"admin", "director", "manager", "rep", "marketing", "service"}  # all but viewers
REPORT_AUTHORS = {"admin", "director", "manager", "rep"}
FORM_BUILDERS = {"admin", "director", "marketing"}
TARGET_SETTERS = {"admin", "director", "manager"}  # a manager their own team's (the page's default grid)
FORECASTERS = {"admin", "director", "manager"}  # the forecast page; a rep's forecast is on their dashboard
CALLERS = {"admin", "director", "manager", "rep"}  # a forecast call: a rep their own, a manager their team's, directors any
BOARDS = {
    "sales": {"admin", "director", "manager", "rep", "marketing", "service", "viewer"},
    "my": {"admin", "manager", "rep"},  # the matrix's administrator is a superuser, who has every permission
    "marketing": {"admin", "director", "manager", "marketing", "service", "viewer"},
    "service": {"admin", "director", "manager", "marketing", "service", "viewer"},
}


def reads(who: Principal, variant: str) -> bool:
    """Whether `who` reads a record of `variant` (North's records are owned by North's rep, South's by South's)."""
    return variant == ONLY or who.role in READS_EVERYTHING or who.team == variant


def changes(who: Principal, variant: str) -> bool:
    if who.role in CHANGES_EVERYTHING:
        return True
    return variant != ONLY and who.team == variant and who.role in {"manager", "rep"}


def owns(who: Principal, variant: str) -> bool:
    """Per-person things (reports, cards, notifications) belong to the rep of their variant's team."""
    return who.role == "rep" and who.team == variant


# --------------------------------------------------------------------------- what they should get


class Outcome(Enum):
    PUBLIC = "open to anyone, signed in or not (any answer but a 500)"
    OK = "allowed (200/302, or the page's own 4xx for bad input)"
    NOOP = "answered, but changes nothing"
    DENIED = "403 (the styled page for HTML)"
    HIDDEN = "404 or 403, nothing shown"
    LOGIN = "the login page (an API: 401/403)"
    ADMIN_LOGIN = "the admin site's login page"
    BAD_INPUT = "400: the request names something the asker cannot use, and shows nothing beyond their walls"


Policy = Callable[[Principal, str, bool], Outcome]  # (who, variant, is a write) -> outcome


def _signed_in(inner: Policy) -> Policy:
    return lambda who, variant, write: inner(who, variant, write) if who.signed_in else Outcome.LOGIN


def allowed_to(read: set[str] | None, write: set[str] | None = None) -> Policy:
    """Roles that may read (GET) and write (POST...); None: every signed-in person."""

    def policy(who: Principal, variant: str, is_write: bool) -> Outcome:
        roles = write if is_write and write is not None else read
        return Outcome.OK if roles is None or who.role in roles else Outcome.DENIED

    return _signed_in(policy)


def public(who: Principal, variant: str, write: bool) -> Outcome:
    return Outcome.PUBLIC


def record_list(who: Principal, variant: str, write: bool) -> Outcome:
    return Outcome.OK if who.signed_in else Outcome.LOGIN


def record_read(who: Principal, variant: str, write: bool) -> Outcome:
    return Outcome.OK if reads(who, variant) else Outcome.HIDDEN


def record_create(who: Principal, variant: str, write: bool) -> Outcome:
    return Outcome.OK if who.role in CREATORS else Outcome.DENIED


def record_change(who: Principal, variant: str, write: bool) -> Outcome:
    if not reads(who, variant):
        return Outcome.HIDDEN
    return Outcome.OK if changes(who, variant) else Outcome.DENIED


def record_log(who: Principal, variant: str, write: bool) -> Outcome:
    """Logging a call on a record one reads: anyone who creates records (the activity is their own)."""
    if not reads(who, variant):
        return Outcome.HIDDEN
    return Outcome.OK if who.role in CREATORS else Outcome.DENIED


def report_read(who: Principal, variant: str, write: bool) -> Outcome:
    """Reports are their owner's (and recipients'); administrators and directors see them all."""
    return Outcome.OK if who.role in CHANGES_EVERYTHING or owns(who, variant) else Outcome.HIDDEN


def own_thing(who: Principal, variant: str, write: bool) -> Outcome:
    """Someone else's card or notification is not theirs to remove or mark: nothing happens."""
    return Outcome.OK if owns(who, variant) else Outcome.NOOP


def board(who: Principal, variant: str, write: bool) -> Outcome:
    return Outcome.OK if who.role in BOARDS[variant] else Outcome.DENIED


def staff_only(who: Principal, variant: str, write: bool) -> Outcome:
    return Outcome.OK if who.role == "admin" else Outcome.ADMIN_LOGIN


def staff_read_only(who: Principal, variant: str, write: bool) -> Outcome:
    """A log kept by the system (audit trail, sign-in attempts): the admin reads it, nobody adds or edits entries."""
    return Outcome.DENIED if who.role == "admin" else Outcome.ADMIN_LOGIN


def staff_bad_input(who: Principal, variant: str, write: bool) -> Outcome:
    """An admin route asked without what it needs (a search's model, an object's site, a page that is not there)."""
    return Outcome.HIDDEN if who.role == "admin" else Outcome.ADMIN_LOGIN


# A route's policy: the first pattern that matches its URL name (or, unnamed, its path) wins.
PAGE_POLICIES: list[tuple[str, Policy | str]] = [
    ("login", public),
    ("logout", public),
    ("set_language", public),
    ("healthz", public),
    ("webforms:public*", public),
    ("admin:login", public),
    ("admin:logout", public),
    ("admin/(*", staff_bad_input),  # the admin site's last route: any other path under it
    ("admin:autocomplete", staff_bad_input),
    ("admin:view_on_site", staff_bad_input),  # companies have no page outside Quota's own
    ("admin:auditlog_logentry_add", staff_read_only),
    ("admin:auditlog_logentry_delete", staff_read_only),
    ("admin:axes_accessattempt_add", staff_read_only),
    ("admin:axes_accesslog_add", staff_read_only),
    ("admin:axes_accessfailurelog_add", staff_read_only),
    ("admin:sales_documentcounter_add", staff_read_only),  # numbers are taken, never typed (sales.numbering)
    ("admin:forecasting_winmodel_add", staff_read_only),  # models are trained, scores and calls made by the app
    ("admin:forecasting_dealscore_add", staff_read_only),
    ("admin:forecasting_forecastcall_add", staff_read_only),
    ("admin:sales_documentcounter_delete", staff_read_only),
    ("admin:*", staff_only),
    ("admin/*", staff_only),  # the admin's unnamed redirects to an object's page
    ("home", allowed_to(None)),
    ("kpi:glossary", allowed_to(None)),
    ("crm:board", allowed_to(None)),
    ("crm:customers", allowed_to(None)),  # everyone; the cohorts count the deals each may see
    ("crm:customers_export", allowed_to(None)),
    ("notifications:list", allowed_to(None)),
    ("search:results", allowed_to(None)),  # everyone searches; each finds only what their lists show
    ("notifications:read_all", allowed_to(None)),
    ("notifications:menu", allowed_to(None)),
    ("notifications:digest", allowed_to(None)),  # one's own preference
    ("notifications:read", _signed_in(own_thing)),
    ("dashboards:board", _signed_in(board)),
    ("forecasting:forecast", allowed_to(FORECASTERS)),
    ("forecasting:call", allowed_to(CALLERS)),  # POST only; an empty form is sent back with its errors
    ("dashboards:kpi", allowed_to(None)),
    ("dashboards:kpi_export", allowed_to(None)),
    ("dashboards:targets", allowed_to(None, TARGET_SETTERS)),
    ("dashboards:targets_export", allowed_to(None)),
    ("dashboards:builder", allowed_to(None, CHANGES_EVERYTHING)),
    ("dashboards:builder_preview", allowed_to(CHANGES_EVERYTHING)),  # a preview runs any definition: definers only
    ("audit:*", allowed_to(CHANGES_EVERYTHING)),
    ("dashboards:card_add", allowed_to(None)),
    ("dashboards:card_remove", _signed_in(own_thing)),
    ("reports:report_list", allowed_to(None)),
    ("reports:report_create", allowed_to(REPORT_AUTHORS)),
    ("reports:*", _signed_in(report_read)),  # detail, edit, send, deliveries: only their owner changes a report
    ("webhooks:*", allowed_to(CHANGES_EVERYTHING)),
    ("webforms:*", allowed_to(FORM_BUILDERS)),
    ("imports:*", allowed_to(CHANGES_EVERYTHING)),
    # record pages (core.views.RecordPages and the domain's actions), by the generic names they get
    ("*:*_list", "records"),
    ("*:*_export", "records"),
    ("*:*_autocomplete", "records"),
    ("*:*_detail", _signed_in(record_read)),
    ("*:*_create", _signed_in(record_create)),
    ("activities:quick_log_*", _signed_in(record_log)),
    ("*:*_edit", _signed_in(record_change)),
    ("crm:deal_*", _signed_in(record_change)),  # move, win, lose, reopen
    ("crm:lead_*", _signed_in(record_change)),  # convert, disqualify
    ("activities:task_*", _signed_in(record_change)),
    ("sales:offer_line_*", _signed_in(record_change)),
]
RECORD_LIST_POLICY = _signed_in(record_list)

# Query strings a page is asked with (each one more request): exports in both formats, a search.
QUERIES: list[tuple[str, list[str]]] = [
    ("*:*_export", ["format=csv", "format=xlsx"]),
    ("*:*_autocomplete", ["q=lyra"]),
    ("dashboards:kpi_export", ["table=breakdown&format=csv", "table=trend&format=xlsx"]),
    ("dashboards:targets_export", ["format=csv"]),
]


def matches(key: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(key, pattern)


def page_policy(route: Route) -> Policy | None:
    for pattern, policy in PAGE_POLICIES:
        if matches(route.key, pattern):
            return RECORD_LIST_POLICY if policy == "records" else policy  # type: ignore[return-value]
    return None


def lists_records(route: Route) -> bool:
    """A record list or export (core.views): those who read a team's records must find its marker there."""

    return route.view_class in (RecordListView, RecordExportView)


def queries_for(route: Route) -> list[str]:
    for pattern, queries in QUERIES:
        if matches(route.key, pattern):
            return queries
    return [""]


# --------------------------------------------------------------------------- the routes


@dataclass(frozen=True)
class Route:
    """One URL pattern: its name (namespace included) or, unnamed, its path; its path parameters; its view."""

    name: str | None
    path: str  # the pattern as written, prefixes included ("crm/deals/<int:pk>/")
    params: tuple[str, ...]
    callback: Any

    @property
    def key(self) -> str:
        return self.name or self.path

    @property
    def view_class(self) -> Any:
        return getattr(self.callback, "view_class", None) or getattr(self.callback, "cls", None)

    @property
    def is_api(self) -> bool:

        view = self.view_class
        return isinstance(view, type) and issubclass(view, APIView)


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "", params: tuple[str, ...] = ()) -> Iterator[Route]:
    for entry in patterns:
        pattern = entry.pattern
        names = tuple(getattr(pattern, "converters", {}) or pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(pattern), inner, params + names)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}{entry.name}" if entry.name else None
            yield Route(name, prefix + str(pattern), params + names, entry.callback)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns))


def page_routes() -> list[Route]:
    return [route for route in all_routes() if not route.is_api]


def api_routes() -> list[Route]:
    return [route for route in all_routes() if route.is_api]


def build_url(route: Route, values: dict[str, Any]) -> str:
    if route.name:
        return reverse(route.name, kwargs=values)
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m.group(1)]), route.path)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), path)
    return "/" + path.replace("^", "").replace("$", "")


# --------------------------------------------------------------------------- the world


@dataclass
class World:
    users: dict[str, Any]  # principal name -> user
    objects: dict[type[models.Model], dict[str, Any]] = field(default_factory=dict)  # model -> variant -> object
    values: dict[str, dict[str, Any]] = field(default_factory=dict)  # a named non-object parameter -> variant -> value

    def add(self, north: Any = None, south: Any = None, *, only: Any = None) -> None:
        model = type(only if only is not None else north)
        self.objects[model] = {ONLY: only} if only is not None else {NORTH: north, SOUTH: south}


MOMENT = dt.datetime(2026, 3, 18, 10, 0, tzinfo=dt.UTC)  # the matrix runs at this moment (time-machine)


def build_world() -> World:
    """Everything the matrix asks about; run inside a transaction the caller rolls back."""

    company = Team.objects.create(name="Company")
    teams = {
        NORTH: Team.objects.create(name="North", parent=company),
        SOUTH: Team.objects.create(name="South", parent=company),
        "marketing": Team.objects.create(name="Marketing", parent=company),
        "service": Team.objects.create(name="Service", parent=company),
    }
    users: dict[str, Any] = {}
    for who in PRINCIPALS:
        if not who.signed_in:
            continue
        admin = who.role == Role.ADMIN
        users[who.name] = f.UserFactory(
            username=f"m_{who.name}",
            first_name=who.name.replace("_", " ").title(),
            last_name="Person",
            role=who.role,
            team=teams.get(who.team or ""),
            is_superuser=admin,
            is_staff=admin,
        )
    world = World(users)
    owners = {NORTH: users["rep"], SOUTH: users["south_rep"]}
    made: dict[str, dict[str, Any]] = {NORTH: {}, SOUTH: {}}
    for variant, owner in owners.items():
        mark = MARKERS[variant].title()
        tag = MARKERS[variant].upper()
        company_ = f.CompanyFactory(name=f"{mark} Co", owner=owner)
        contact = f.ContactFactory(first_name=mark, last_name="Contact", company=company_, owner=owner)
        lead = f.LeadFactory(title=f"{mark} lead", last_name="Lead", company_name=f"{mark} prospect", owner=owner)
        deal: Any = f.DealFactory(title=f"{mark} deal", owner=owner, company=company_, contact=contact)
        crm.deal_move_stage(deal=deal, stage=deal.pipeline.stages.order_by("position")[1], by=None)  # a stage change
        won: Any = f.DealFactory(
            title=f"{mark} won deal", owner=owner, company=company_, created_at=MOMENT - dt.timedelta(days=30)
        )
        crm.deal_close_won(deal=won, by=None, at=MOMENT - dt.timedelta(days=8))
        offer = f.OfferFactory(number=f"{tag}-Q1", company=company_, owner=owner, deal=deal)
        line = f.OfferLineFactory(offer=offer)
        order = f.OrderFactory(number=f"{tag}-O1", company=company_, owner=owner, deal=deal)
        invoice = f.InvoiceFactory(number=f"{tag}-I1", company=company_, owner=owner, order=order)
        task = Activity.objects.create(
            kind=ActivityKind.TASK, subject=f"{mark} task", owner=owner, deal=deal, occurred_at=MOMENT + dt.timedelta(days=2)
        )
        case = f.CaseFactory(number=f"{tag}-C1", subject=f"{mark} case", company=company_, owner=owner)
        answer = f.SurveyAnswerFactory(company=company_, owner=owner, comment=f"{mark} answer")
        campaign = f.CampaignFactory(name=f"{mark} campaign", owner=owner)
        recipient = f.CampaignRecipientFactory(campaign=campaign, email=f"{MARKERS[variant]}@example.com")
        report = Report.objects.create(
            name=f"{MARKERS[variant]}-weekly", title=f"{mark} weekly", owner=owner, kpis=["won_revenue"], weekday=0
        )
        delivery = ReportDelivery.objects.create(report=report, trigger="manual", requested_by=owner)
        delivery.pdf_file.save("report.pdf", ContentFile(b"%PDF-1.4\n"), save=True)
        card = DashboardCard.objects.create(user=owner, board="my", metric_key="won_revenue", position=1)
        notice = Notification.objects.create(user=owner, kind="target_behind", title=f"{mark} notice", dedupe_key="matrix")
        made[variant] = {
            "company": company_,
            "contact": contact,
            "lead": lead,
            "deal": deal,
            "won": won,
            "offer": offer,
            "line": line,
            "order": order,
            "invoice": invoice,
            "task": task,
            "case": case,
            "answer": answer,
            "campaign": campaign,
            "recipient": recipient,
            "report": report,
            "delivery": delivery,
            "card": card,
            "notice": notice,
        }
    for kind in made[NORTH]:
        if kind != "won":
            world.add(made[NORTH][kind], made[SOUTH][kind])

    world.add(*(DealStageChange.objects.get(deal=made[v]["deal"]) for v in (NORTH, SOUTH)))
    assert Deal.objects.count() == 4

    # Configuration and integrations: one of each, nobody's.
    world.add(only=f.lead_source("website"))
    world.add(only=Pipeline.objects.get(is_default=True))
    world.add(only=Stage.objects.filter(pipeline__is_default=True).order_by("position").first())
    world.add(only=f.loss_reason())
    world.add(only=ChurnReason.objects.get(key="contract_ended"))  # built in by the migrations
    world.add(only=CustomField.objects.create(target="deal", key="region", label="Region", field_type="text"))
    world.add(only=f.ProductFactory(name="Matrix product"))
    subscription = WebhookSubscription.objects.create(url="https://erp.example.com/hook", events=["deal.won"])
    world.add(only=subscription)
    world.add(only=WebhookDelivery.objects.create(subscription=subscription, event="deal.won", payload={"id": 1}))
    webform = WebForm.objects.create(name="Contact us", source=f.lead_source("website"))
    world.add(only=webform)
    job = imports.job_create(
        file=SimpleUploadedFile("companies.csv", b"Company,Country\nAcme,Poland\n"), holds="into:companies", by=None
    )
    world.add(only=job)

    world.add(only=ImportRun.objects.create(title="Matrix import", status="done"))
    world.values = {
        "key": {ONLY: "won_revenue"},  # a KPI (dashboards:kpi) ...
        "board": {name: name for name in BOARDS},  # ... a dashboard, each one
        "fmt": {ONLY: "pdf"},
        "url": {ONLY: "no-such-page/"},
        "format": {ONLY: "json"},
    }
    world.values["webform_key"] = {ONLY: webform.key}
    world.values["app_label"] = {ONLY: "crm"}
    world.values["content_type"] = {ONLY: ContentType.objects.get_for_model(Company).pk}
    return world


# Path parameters that are not the primary key of the view's model: (URL name pattern, parameter) -> how to fill.
PARAMETERS: list[tuple[str, str, str]] = [
    ("webforms:public*", "key", "webform_key"),
    ("dashboards:kpi*", "key", "key"),
    ("dashboards:board", "board", "board"),
    ("reports:delivery_file", "fmt", "fmt"),
    ("reports:report_download", "fmt", "fmt"),
    ("admin/*", "url", "url"),
    ("admin:app_list", "app_label", "app_label"),
    ("admin:view_on_site", "content_type_id", "content_type"),
    ("*", "format", "format"),
]
# The model behind `pk` where the view does not say (function views and views without a model).
PK_MODELS: list[tuple[str, str]] = [
    ("reports:delivery_*", "reports.ReportDelivery"),
    ("reports:*", "reports.Report"),
    ("dashboards:card_remove", "dashboards.DashboardCard"),
    ("notifications:read", "notifications.Notification"),
    ("webforms:*", "webforms.WebForm"),
    ("imports:*", "imports.ImportJob"),
    ("sales:offer_line_*", "sales.Offer"),
    ("admin:view_on_site", "crm.Company"),
    ("webhooks:edit", "webhooks.WebhookSubscription"),
    ("webhooks:redeliver", "webhooks.WebhookDelivery"),
]


def model_of(route: Route) -> type[models.Model] | None:
    """The model whose object a route's `pk`/`object_id` names: from the view, else the tables above."""
    view = route.view_class
    initkwargs = getattr(route.callback, "view_initkwargs", {}) or {}
    if initkwargs.get("pages") is not None:
        return initkwargs["pages"].model
    if initkwargs.get("link") and hasattr(view, "pages_for_link"):  # quick logging: the pages that declared the link
        return view.pages_for_link(initkwargs["link"]).model
    for pattern, label in PK_MODELS:
        if matches(route.key, pattern):
            return apps.get_model(label)
    for source in (getattr(view, "model", None), getattr(getattr(view, "queryset", None), "model", None)):
        if isinstance(source, type) and issubclass(source, models.Model):
            return source
    admin = re.match(r"admin(?::|/)(\w+?)[_/](\w+?)(?:_|/)", route.key)  # admin:crm_deal_change, admin/crm/deal/...
    if admin:
        try:
            model = apps.get_model(admin.group(1), admin.group(2))
        except LookupError:
            return None
        return apps.get_model(model._meta.swapped) if model._meta.swapped else model  # auth_user_password_change
    return None


class UnknownParameter(LookupError):
    """The matrix does not know what to put in a route's path parameter."""


def fill(route: Route, world: World) -> dict[str, dict[str, Any]]:
    """For each variant of the route's objects, the value of every path parameter ({} for a route without any)."""
    choices = {param: _choices(route, param, world) for param in route.params}
    variants = sorted({variant for values in choices.values() for variant in values if variant != ONLY}) or [ONLY]
    by_variant: dict[str, dict[str, Any]] = {}
    for variant in variants:
        by_variant[variant] = {}
        for param, values in choices.items():
            value = values.get(variant, values.get(ONLY))
            if value is None:
                raise UnknownParameter(f"{route.key}: no {param} for the {variant} variant")
            by_variant[variant][param] = value
    return by_variant


def _choices(route: Route, param: str, world: World) -> dict[str, Any]:
    for pattern, name, source in PARAMETERS:
        if name == param and matches(route.key, pattern):
            return world.values[source]
    if param == "line_pk":
        return {variant: line.pk for variant, line in world.objects[OfferLine].items()}
    if param in {"pk", "object_id", "id"}:
        model = model_of(route)
        if model is None:
            raise UnknownParameter(f"{route.key}: which kind of object is `{param}`?")
        if model in world.objects:
            return {variant: obj.pk for variant, obj in world.objects[model].items()}
        if route.key.startswith("admin"):  # a table the world leaves empty: the admin answers a missing row itself
            first = model._default_manager.order_by("pk").first()
            return {ONLY: first.pk if first is not None else 0}
        raise UnknownParameter(f"{route.key}: the world has no {model.__name__}")
    raise UnknownParameter(f"{route.key}: what is `{param}`?")


# --------------------------------------------------------------------------- the API, from its schema


@dataclass(frozen=True)
class Operation:
    path: str  # as in the schema: "/api/deals/{id}/win/"
    method: str  # upper case

    @property
    def is_write(self) -> bool:
        return self.method not in {"GET", "HEAD", "OPTIONS"}


def api_operations() -> list[Operation]:

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [Operation(path, method.upper()) for path, item in schema["paths"].items() for method in item]


def api_view(path: str) -> Any:
    return getattr(resolve(re.sub(r"\{\w+\}", "1", path)).func, "cls", None)


def api_model(view: Any) -> type[models.Model]:
    return getattr(view, "model", None) or view.queryset.model


def api_policy(operation: Operation) -> Policy | None:
    """Who may use an API operation: from the kind of view it is. None: the matrix does not know it."""

    view = api_view(operation.path)
    detail = "{id}" in operation.path
    if issubclass(view, WebhookSubscriptionViewSet | WebhookDeliveryViewSet):
        return allowed_to(CHANGES_EVERYTHING)
    if issubclass(view, ConfigurationViewSet | KpiViewSet):  # KPIs: everyone reads them, definers define them
        return allowed_to(None, CHANGES_EVERYTHING)
    if issubclass(view, TargetProgressViewSet):
        return allowed_to(None)
    if issubclass(view, RecordViewSet) and isinstance(api_model(view)._default_manager.all(), VisibleQuerySet):
        if not operation.is_write:
            return _signed_in(record_read) if detail else RECORD_LIST_POLICY
        return _signed_in(record_change) if detail else _signed_in(record_create)
    return None


def api_values(operation: Operation, world: World) -> dict[str, str]:
    """Each variant's path for an operation."""
    if "{key}" in operation.path:  # a KPI, by key
        return {ONLY: operation.path.replace("{key}", world.values["key"][ONLY])}
    if "{id}" not in operation.path:
        return {ONLY: operation.path}
    objects = world.objects[api_model(api_view(operation.path))]
    return {variant: operation.path.replace("{id}", str(obj.pk)) for variant, obj in objects.items()}


# --------------------------------------------------------------------------- reading answers


def body_text(response: Any) -> str:
    """A response's content as text, for the marker search (an XLSX is read cell by cell; other binaries are "")."""
    content = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    kind = response.get("Content-Type", "")
    if "spreadsheetml" in kind:
        book = load_workbook(io.BytesIO(content), read_only=True)
        return " ".join(str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for cell in row)
    if kind.startswith(("text/", "application/json")) or not kind:
        return RANDOM_TOKENS.sub("", content.decode("utf-8", errors="replace"))
    return ""


# Random per-response tokens (the CSRF token in forms and in the HTMX headers, CSP nonces): 64 letters and digits
# hold a team's four-letter marker now and then, a leak that is not one. They are cut before the marker search.
RANDOM_TOKENS = re.compile(
    r'(?:name="csrfmiddlewaretoken" value="[^"]*"|"X-CSRFToken": "[^"]*"|nonce="[^"]*"|csrftoken=[A-Za-z0-9]+)'
)
