"""Generic record pages every domain shares (NetBox-style): list, detail, create, edit, actions.

A domain describes one kind of record once, as a `RecordPages` subclass: its model, FilterSet,
forms, columns and search fields. The generic views read that description, and
`RecordPages.urls()` names their URLs `<app>:<model>_<page>` (`crm:deal_list`, `crm:deal_detail`).

Every page follows the same rules:
- reads go through `Model.objects.visible_to(user)`, so a record the user may not see is a 404;
- writes go through the services; a service's `PermissionDenied` becomes a 403 page with its
  message and its `ValidationError` becomes form errors next to the fields it names;
- an HTMX request gets a partial of the same view (`request.htmx.target` says which), never a
  second code path.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any, ClassVar, Generic, TypeVar, cast

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import Count, F, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseBase, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, get_script_prefix, get_urlconf, path, reverse
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.module_loading import import_string
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache
from django_htmx.http import HttpResponseClientRedirect

from quota.core import dataversions, health
from quota.core.exports import UnknownFormat, export_response, record_table
from quota.core.forms import ServiceErrorsMixin
from quota.core.htmx import htmx_target, is_htmx
from quota.core.money import company_currency
from quota.core.pagecache import live_page
from quota.core.permissions import refusal, require
from quota.core.record_extensions import detail_extras, form_extension
from quota.core.services import record_create, record_update, require_change, require_owner_allowed
from quota.core.visibility import VisibleQuerySet, changeable_owner_ids, visible_owner_ids

# --------------------------------------------------------------------------- describing a kind of record

# The record pages that activities can be logged against, by the activity's link field ("deal", ...).
LOGGING_PAGES: dict[str, type[RecordPages]] = {}
# Panels another app adds to every record page (the activities' timeline): feed(request, pages, record).
PanelFeed = Callable[[HttpRequest, "type[RecordPages]", Any], "Panel | None"]
_panel_feeds: list[PanelFeed] = []


def register_panel_feed(feed: PanelFeed) -> None:
    if feed not in _panel_feeds:
        _panel_feeds.append(feed)


def fed_panels(request: HttpRequest, pages: type[RecordPages], record: Any) -> list[Panel]:
    return [panel for feed in _panel_feeds if (panel := feed(request, pages, record)) is not None]


@dataclass(frozen=True)
class Column:
    """One column of a record table, or one line of a detail page's summary."""

    accessor: str  # a field or dotted path ("company", "stage.name"); "" is the record itself
    label: Any = None  # defaults to the model field's verbose name
    sort: str | None = None  # the ORDER BY field; only columns that name one may be sorted by
    link: bool = False  # link the value to the row's own detail page

    @property
    def key(self) -> str:
        """The name used in `?sort=`: short and stable, never a raw ORDER BY expression."""
        return self.accessor or "record"


@dataclass(frozen=True)
class Action:
    """A button on a detail page. `inline` ones load their form into the page with HTMX."""

    label: Any
    url: str
    style: str = ""  # "", "primary" or "danger"
    inline: bool = True


@dataclass
class Panel:
    """A box on a detail page (stage history, related deals, the activity timeline)."""

    template: str
    title: Any = ""
    data: dict[str, Any] = field(default_factory=dict)
    aside: bool = False  # the narrow column beside the summary


@dataclass(frozen=True)
class RelatedList:
    """Up to ten related records on a detail page, linking to the whole list filtered by `lookup`."""

    title: Any
    pages: str  # dotted path of the RecordPages, resolved late because the apps refer to each other
    lookup: str  # the field that points back at the record; also the list page's filter name
    size: int = 10

    def panel(self, request: HttpRequest, record: models.Model) -> Panel:
        pages: type[RecordPages] = import_string(self.pages)
        rows = list(
            pages.queryset(request.user).filter(**{self.lookup: record}).order_by(*pages.default_ordering())[: self.size + 1]
        )
        columns = [column for column in pages.columns if column.accessor.split(".")[0] != self.lookup]
        filters = getattr(pages.filterset_class, "base_filters", {})
        list_url = f"{reverse(pages.url_name('list'))}?{self.lookup}={record.pk}" if self.lookup in filters else None
        # "Add" opens the related form with this record filled in, if that form has the field.
        form_fields = getattr(pages.form_class, "base_fields", {})
        create_url = f"{reverse(pages.url_name('create'))}?{self.lookup}={record.pk}" if self.lookup in form_fields else None
        return Panel(
            template="core/_related_list.html",
            title=self.title,
            data={
                "rows": rows[: self.size],
                "more": len(rows) > self.size,
                "headers": [Header(column, column_label(pages.model, column)) for column in columns],
                "list_url": list_url,  # only when the list can filter by this record
                "create_url": create_url,
                "pages": pages,
            },
        )


class RecordPages:
    """Everything the generic views need to know about one kind of record.

    A subclass names its model, URL segment, FilterSet, forms and columns; it overrides `create`
    and `update` when the domain has its own services, and `panels`/`actions` to add to the
    detail page.
    """

    model: ClassVar[type[models.Model]]
    slug: ClassVar[str]  # the URL segment: "deals" gives /crm/deals/, /crm/deals/7/, ...
    filterset_class: ClassVar[Any] = None
    form_class: ClassVar[type[forms.ModelForm] | None] = None
    edit_form_class: ClassVar[type[forms.ModelForm] | None] = None  # defaults to form_class
    columns: ClassVar[tuple[Column, ...]] = ()
    search_fields: ClassVar[tuple[str, ...]] = ()
    related: ClassVar[tuple[str, ...]] = ()  # select_related for lists and detail pages: no N+1
    detail_related: ClassVar[tuple[str, ...]] = ()  # what only the detail page shows
    detail_fields: ClassVar[tuple[Column, ...]] = ()
    related_lists: ClassVar[tuple[RelatedList, ...]] = ()
    detail_template: ClassVar[str] = "core/detail.html"
    badge_field: ClassVar[str | None] = None  # a choice field shown as a coloured badge (status)
    do_not_call_in_templates = True  # templates read `pages.list_url`, they must not instantiate the class

    @classmethod
    def url_name(cls, page: str) -> str:
        return f"{cls.model._meta.app_label}:{cls.model._meta.model_name}_{page}"

    @classmethod
    def list_url(cls) -> str:
        return reverse(cls.url_name("list"))

    @classmethod
    def verbose_name(cls) -> Any:
        return cls.model._meta.verbose_name

    @classmethod
    def verbose_name_plural(cls) -> Any:
        return cls.model._meta.verbose_name_plural

    @classmethod
    def queryset(cls, user: Any) -> QuerySet:
        """The records `user` may read, with what the pages show of their relations."""
        return cls.model._default_manager.visible_to(user).select_related(*cls.related)  # type: ignore[attr-defined]

    @classmethod
    def detail_queryset(cls, user: Any) -> QuerySet:
        # Read by a query each: joined to the list's relations, a deal's eight joins cost PostgreSQL 12 ms of
        # planning (every join order is weighed up to join_collapse_limit) for a 0.5 ms lookup.
        return cls.queryset(user).prefetch_related(*cls.detail_related)

    @classmethod
    def default_ordering(cls) -> list[Any]:
        ordering = list(cls.model._meta.ordering or [])
        tie_breaker = "-pk" if ordering and str(ordering[0]).startswith("-") else "pk"
        return [*ordering, tie_breaker]  # a unique last key keeps pagination stable

    @classmethod
    def create(cls, *, by: Any, data: dict[str, Any]) -> models.Model:
        return record_create(model=cls.model, by=by, **data)

    @classmethod
    def update(cls, *, record: models.Model, by: Any, data: dict[str, Any]) -> models.Model:
        return record_update(instance=record, by=by, data=data)

    @classmethod
    def actions(cls, request: HttpRequest, record: Any) -> list[Action]:
        """Buttons beyond Edit, for a user who may change the record."""
        return []

    @classmethod
    def panels(cls, request: HttpRequest, record: Any) -> list[Panel]:
        """Boxes beside and below the summary; related lists and fed panels are added by the detail view."""
        return []

    # What a record's timeline shows. The timeline is drawn by a panel feed that the activities app registers
    # (core cannot import it): it asks `activity_condition` for the activities that belong to the record (a Q
    # over them; None for no timeline), and offers quick logging against `log_target` (the activity's link
    # field: "deal", "contact", "company") where one is set.
    log_target: ClassVar[str | None] = None

    @classmethod
    def rows_read(cls, request: HttpRequest) -> tuple[type[models.Model], str] | None:
        """A model whose rows the list and detail pages read only for the records they show, linked by a field.

        Kept pages (core.pagecache) then depend on those rows, not on the whole table (core.dataversions).
        """
        return None

    @classmethod
    def activity_condition(cls, record: Any) -> Q | None:
        return None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("log_target"):
            LOGGING_PAGES[cls.__dict__["log_target"]] = cls

    @classmethod
    def prepare_filter_form(cls, form: forms.Form, user: Any) -> None:
        """A hook to turn a FilterSet's raw field (a source key, say) into something people can pick."""

    @classmethod
    def total(cls) -> Any:
        """The expression a list adds up under its table (a deal's amount in the company currency); None for none."""
        return None

    @classmethod
    def list_note(cls, filterset: Any) -> str:
        """A line above the table saying what the filters make of the list (the deals as they stood on a day)."""
        return ""

    @classmethod
    def urls(cls) -> list[URLPattern]:
        name = cls.model._meta.model_name
        prefix = f"{cls.slug}/" if cls.slug else ""  # an empty slug: the app's own prefix is the list
        patterns = [
            path(prefix, RecordListView.as_view(pages=cls), name=f"{name}_list"),
            path(f"{prefix}<int:pk>/", RecordDetailView.as_view(pages=cls), name=f"{name}_detail"),
            path(f"{prefix}autocomplete/", RecordAutocompleteView.as_view(pages=cls), name=f"{name}_autocomplete"),
            path(f"{prefix}export/", RecordExportView.as_view(pages=cls), name=f"{name}_export"),
        ]
        if cls.form_class is not None:
            patterns += [
                path(f"{prefix}new/", RecordFormView.as_view(pages=cls), name=f"{name}_create"),
                path(f"{prefix}<int:pk>/edit/", RecordFormView.as_view(pages=cls), name=f"{name}_edit"),
            ]
        return patterns


def column_label(model: type[models.Model], column: Column) -> Any:
    if column.label is not None:
        return column.label
    name = column.accessor.split(".")[0]
    try:
        return getattr(model._meta.get_field(name), "verbose_name", name)
    except Exception:
        return name.replace("_", " ")


def record_url(record: Any, page: str = "detail") -> str | None:
    """The URL of a record's page, or None for things without pages (users, stages)."""
    if not isinstance(record, models.Model) or record.pk is None:
        return None
    name = f"{record._meta.app_label}:{record._meta.model_name}_{page}"
    if not isinstance(record.pk, int) or isinstance(record.pk, bool):
        try:
            return reverse(name, args=[record.pk])
        except NoReverseMatch:
            return None
    urlconf = get_urlconf()
    pattern = _url_with_placeholder(name, urlconf, get_resolver(urlconf), get_script_prefix())
    return None if pattern is None else pattern.replace(str(_PLACEHOLDER_PK), str(record.pk))


# Stands for a record's id in a URL reversed once per URL name (`record_url`).
_PLACEHOLDER_PK = 2147483647


@lru_cache(maxsize=512)
def _url_with_placeholder(name: str, urlconf: str | None, resolver: URLResolver, prefix: str) -> str | None:
    """`name`'s URL for the placeholder id, reversed once: a list page names ~150 records and each reversal
    was ~25 us of CPU. Keyed by the resolver (a new one after the URLs change) and the script prefix."""
    try:
        return reverse(name, args=[_PLACEHOLDER_PK], urlconf=urlconf)
    except NoReverseMatch:
        return None


# --------------------------------------------------------------------------- forms


class RecordPicker(forms.NumberInput):
    """A record chosen by its name, with a small HTMX search: never a <select> over a big table.

    The page shows the chosen record's name and a search box; typing lists matching records the user
    may see, picking one sets the id in a hidden input (and "Clear" empties it). Without JavaScript
    the search cannot list anything, so a number box for the id takes the hidden input's place
    (a <noscript> after it: the browser sends the box's value, the last of the two).
    """

    template_name = "core/widgets/picker.html"

    def __init__(self, *, queryset: QuerySet, search_url: str, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"class": "picker-value", **(attrs or {})})
        self.queryset = queryset
        self.search_url = search_url

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["type"] = "hidden"  # the name is what people see; the id travels unseen
        context["widget"]["search_url"] = self.search_url
        context["widget"]["selected"] = self._selected(value)
        return context

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        # Without JavaScript both the hidden input and the number box are sent: the box is the one a person typed in.
        values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
        return values[-1] if values else None

    def id_for_label(self, id_: str) -> str:
        """The field's <label> names the search box, the one control a person uses."""
        return f"{id_}_search" if id_ else id_

    def _selected(self, value: Any) -> Any:
        if value in (None, ""):
            return None
        try:
            return self.queryset.filter(pk=int(value)).first()
        except (TypeError, ValueError):
            return None


def _with_parents(queryset: QuerySet) -> QuerySet:
    """Small lookup tables whose label names a parent (a stage names its pipeline) fetch it in the same query."""
    parents = [f.name for f in queryset.model._meta.concrete_fields if f.is_relation and not f.null]
    return queryset.select_related(*parents) if parents else queryset


def restrict_choices(form: forms.BaseForm, user: Any, *, filtering: bool = False) -> None:
    """Offer only what `user` may see in every choice of a form, and never render a huge <select>.

    - people (owner): in a record form, those the user may give records to; in a filter, those
      whose records the user reads;
    - owned records (companies, deals, ...): visible to the user, picked with a `RecordPicker`;
    - small lookup tables (stages, sources, loss reasons): a <select>, fetched in one query.
    """
    user_model = get_user_model()
    for form_field in form.fields.values():
        if isinstance(form_field, forms.ModelChoiceField):
            queryset = cast(QuerySet, form_field.queryset)
            if queryset.model is user_model:
                allowed = visible_owner_ids(user) if filtering else changeable_owner_ids(user)
                people = user_model._default_manager.filter(is_active=True)
                form_field.queryset = people if allowed is None else people.filter(pk__in=allowed)
            elif isinstance(queryset, VisibleQuerySet):
                form_field.queryset = queryset.visible_to(user)
                try:
                    search_url = reverse(f"{queryset.model._meta.app_label}:{queryset.model._meta.model_name}_autocomplete")
                except NoReverseMatch:
                    form_field.widget = forms.NumberInput(attrs={"min": 1})
                else:
                    form_field.widget = RecordPicker(queryset=form_field.queryset, search_url=search_url)
                form_field.widget.is_required = form_field.required
            else:
                form_field.queryset = _with_parents(queryset)
        elif isinstance(form_field, forms.DateTimeField):
            # Filters ask for a day; records keep the time (the browser shows both in the user's locale).
            form_field.widget = (
                forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
                if filtering
                else forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
            )
        elif isinstance(form_field, forms.DateField):
            form_field.widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RecordForm(ServiceErrorsMixin, forms.ModelForm):
    """A ModelForm for a user: choices limited to what they may see, owner checked like the services do.

    A new record belongs to the person creating it unless they pick someone else.
    """

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        restrict_choices(self, user)
        if self.instance.pk is None and "owner" in self.fields and not self.initial.get("owner"):
            self.initial["owner"] = user.pk
        self.custom_fields = form_extension(self)  # e.g. the company's own fields (crm), after the model's

    def clean(self) -> dict[str, Any]:
        super().clean()
        self.custom_fields.collect(self.cleaned_data)
        return self.cleaned_data

    def add_error(self, field: str | None, error: Any) -> None:
        if field is None and isinstance(error, ValidationError):
            error = self.custom_fields.place_errors(error)
        super().add_error(field, error)

    def clean_owner(self) -> Any:
        owner = self.cleaned_data.get("owner")
        if self.instance.pk is None or owner != getattr(self.instance, "owner", None):
            try:
                require_owner_allowed(self.user, owner)
            except PermissionDenied as exc:  # the same rule the service applies, shown where it can be fixed
                raise ValidationError(str(exc))
        return owner


class ActionForm(ServiceErrorsMixin, forms.Form):
    """The form of an action on one record (win a deal, convert a lead, log a call)."""

    def __init__(self, *args: Any, user: Any, record: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.record = record
        restrict_choices(self, user)


# --------------------------------------------------------------------------- lists: search, sort, pages


def search(queryset: QuerySet, fields: Iterable[str], text: str) -> QuerySet:
    """Every word must match one of the fields ("jan kowal" finds Jan Kowalski)."""
    fields = list(fields)
    for word in text.split()[:5]:
        condition = Q()
        for name in fields:
            condition |= Q(**{f"{name}__icontains": word})
        queryset = queryset.filter(condition)
    return queryset


class CappedPaginator(Paginator):
    """Counts at most `cap` rows: past that the page says "10,000+" instead of counting millions.

    The count runs on the unordered, limited queryset (`SELECT COUNT(*) FROM (... LIMIT cap+1)`),
    so it costs at most `cap` index entries however large the table is. With a `total` expression
    the same query adds it up over those rows (the list's sum, exact unless capped).
    """

    cap = 10_000

    def __init__(self, object_list: Any, per_page: int, *, total: Any = None) -> None:
        super().__init__(object_list, per_page)
        self.total_expression = total

    @cached_property
    def summary(self) -> dict[str, Any]:
        queryset = cast(QuerySet, self.object_list).order_by()
        if self.total_expression is None:
            return {"count": queryset[: self.cap + 1].count(), "total": None}
        limited = queryset.annotate(_total=self.total_expression)[: self.cap + 1]
        return limited.aggregate(count=Count("pk"), total=Sum("_total"))

    @cached_property
    def count(self) -> int:
        return int(self.summary["count"])

    @property
    def total(self) -> Any:
        """The sum of the `total` expression over the list; None without one, or when the count is capped."""
        if self.total_expression is None or self.is_capped:
            return None
        return self.summary["total"] or Decimal(0)  # no rows: nothing to add up

    @property
    def is_capped(self) -> bool:
        return self.count > self.cap

    @cached_property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.count / self.per_page))


@dataclass(frozen=True)
class Header:
    """A table header: its label and, for sortable columns, the `?sort=` value a click asks for."""

    column: Column
    label: Any
    next_sort: str | None = None
    direction: str = ""  # "asc", "desc" or "" (not sorted by this column)


def sort_headers(pages: type[RecordPages], requested: str) -> tuple[list[Header], list[Any]]:
    """The headers and the ORDER BY for `?sort=key` or `?sort=-key`; unknown keys are ignored."""
    descending = requested.startswith("-")
    key = requested.lstrip("-")
    ordering: list[Any] | None = None
    headers = []
    for column in pages.columns:
        label = column_label(pages.model, column)
        if column.sort is None:
            headers.append(Header(column, label))
            continue
        if column.key == key:
            expression = F(column.sort)
            ordering = [expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)]
            ordering.append("-pk" if descending else "pk")
            headers.append(Header(column, label, key if descending else f"-{key}", "desc" if descending else "asc"))
        else:
            headers.append(Header(column, label, column.key))
    return headers, ordering or pages.default_ordering()


# --------------------------------------------------------------------------- views


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Every refusal of a page: the 403 page in the site's layout with the reason and a way back.

    Django's `handler403` (any view that raises PermissionDenied) and `forbidden()` both answer
    here; an HTMX request gets only the message, which the page shows in its flash box. The API
    answers its refusals in JSON itself (DRF turns PermissionDenied into a 403 response).
    """
    message = str(exception or "") or _("You may not do this.")
    if is_htmx(request):
        return render(request, "core/_error.html", {"message": message}, status=403)
    referer = request.META.get("HTTP_REFERER", "")
    back = referer if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}) else ""
    return render(request, "403.html", {"message": message, "back_url": back}, status=403)


def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    """A view's own refusal (a service's PermissionDenied it caught): the same 403 page as `handler403`."""
    return permission_denied(request, exc)


class PermissionRequired(PermissionRequiredMixin):
    """A class-based view for people with `permission_required` (a name from core.permissions).

    Anonymous people go to the login page; signed-in people without it get the 403 page with the
    permission's reason.
    """

    def get_permission_denied_message(self) -> str:
        names = self.get_permission_required()
        return refusal(names[0]) if names else str(super().get_permission_denied_message())


def redirect_after_change(request: HttpRequest, url: str) -> HttpResponse:
    """After a successful POST: a normal redirect, or for HTMX a client-side one (a full page load)."""
    if is_htmx(request):
        return HttpResponseClientRedirect(url)
    return redirect(url)


class RecordView(LoginRequiredMixin, View):
    """Base of every record page: signed-in users only; a refused change is a 403 with its reason."""

    pages: type[RecordPages] = RecordPages  # given to as_view(pages=...)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return super().dispatch(request, *args, **kwargs)
        except PermissionDenied as exc:
            return forbidden(request, exc)

    def get_record(self, pk: int) -> Any:
        """The record if the user may see it; a 404 otherwise (never reveal that it exists)."""
        return get_object_or_404(self.pages.detail_queryset(self.request.user), pk=pk)


@method_decorator(live_page, name="get")
class RecordListView(RecordView):
    """Search, filter (the app's FilterSet), sort (whitelisted columns) and paginate one kind of record."""

    template_name = "core/list.html"
    partial_template = "core/_table.html"
    paginate_by = 50

    def get(self, request: HttpRequest) -> HttpResponse:
        pages = self.pages
        listed = list_query(pages, request)
        filterset = listed.filterset
        partial = htmx_target(request) == "record-table"
        refused = listed.refusal
        if refused and partial:  # the filter form (outside the table) is not swapped: the message is flashed
            return render(request, "core/_error.html", {"message": refused}, status=400)
        with dataversions.rows_of_if(pages.rows_read(request)) as shown:
            page: Page = CappedPaginator(listed.queryset, self.paginate_by, total=pages.total()).get_page(request.GET.get("page"))
            if isinstance(shown, dataversions.RowKeys) and shown.readers:  # named before they are read (kept pages)
                shown.are(cast(QuerySet, page.object_list).values_list("pk", flat=True))
            page.object_list = list(page.object_list)
        context = {
            "pages": pages,
            "headers": listed.headers,
            "page": page,
            "filter_form": filterset.form if filterset else None,
            "filters_active": bool(filterset and any(request.GET.get(name) for name in filterset.form.fields)),
            "q": listed.text,
            "create_url": _reverse_or_none(pages.url_name("create")),
            "export_url": reverse(pages.url_name("export")),
            "list_note": pages.list_note(filterset) if filterset is not None and not refused else "",
            "currency": company_currency(),
        }
        # Filters that cannot apply are a bad request: the page shows why beside them, and lists without them.
        status = 400 if refused else 200
        return render(request, self.partial_template if partial else self.template_name, context, status=status)


@dataclass(frozen=True)
class ListQuery:
    """A list page's records as its GET parameters ask: filtered, searched and sorted (not paginated)."""

    queryset: QuerySet
    filterset: Any
    text: str
    headers: list[Header]

    @property
    def refusal(self) -> str:
        """Why some filters could not be applied ("" when all could): each filter's label and message."""
        if self.filterset is None or not self.filterset.is_bound:
            return ""
        return form_error_text(self.filterset.form)


def form_error_text(form: forms.BaseForm) -> str:
    """A form's errors on one line, each after its field's label ("Closed after: Choose a date ...")."""
    lines: list[str] = []
    for name, errors in form.errors.items():
        label = capfirst(form[name].label) if name in form.fields else ""
        lines += [f"{label}: {error}" if label else str(error) for error in errors]
    return " ".join(lines)


def list_query(pages: type[RecordPages], request: HttpRequest) -> ListQuery:
    queryset = pages.queryset(request.user)
    filterset = None
    if pages.filterset_class is not None:
        filterset = pages.filterset_class(request.GET or None, queryset=queryset, request=request)
        restrict_choices(filterset.form, request.user, filtering=True)  # before .qs validates the form
        pages.prepare_filter_form(filterset.form, request.user)
        queryset = filterset.qs
    text = request.GET.get("q", "").strip()
    queryset = search(queryset, pages.search_fields, text)
    headers, ordering = sort_headers(pages, request.GET.get("sort", ""))
    return ListQuery(queryset.order_by(*ordering), filterset, text, headers)


class RecordExportView(RecordView):
    """The whole list as its page shows it (filters, search, sort; every page) as CSV or XLSX: `?format=csv|xlsx`."""

    def get(self, request: HttpRequest) -> HttpResponseBase:
        require(request.user, "records.export")
        pages = self.pages
        listed = list_query(pages, request)
        if listed.refusal:  # a file of every record would pass for the filtered list asked for
            return HttpResponseBadRequest(listed.refusal)
        with translation.override("en"):  # a file name that scripts can rely on, whatever the user's language
            name = pages.slug or str(pages.verbose_name_plural())
        table = record_table(name=name, model=pages.model, headers=listed.headers, queryset=listed.queryset)
        try:
            return export_response(table, request.GET.get("format", "csv"))
        except UnknownFormat as exc:
            return HttpResponseBadRequest(str(exc))


@method_decorator(live_page, name="get")
class RecordDetailView(RecordView):
    """One record: its summary, actions, panels (related records, history, timeline)."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        with dataversions.rows_of_if(self.pages.rows_read(request)) as shown:
            shown.are([pk])
            return self._page(request, pk)

    def _page(self, request: HttpRequest, pk: int) -> HttpResponse:
        pages = self.pages
        record = self.get_record(pk)
        may_change = request.user.has_perm("records.change", record)
        actions = []
        if may_change:
            if pages.form_class is not None:
                actions.append(Action(_("Edit"), reverse(pages.url_name("edit"), args=[record.pk]), inline=False))
            actions += pages.actions(request, record)
        panels = [
            *pages.panels(request, record),
            *fed_panels(request, pages, record),
            *(related.panel(request, record) for related in pages.related_lists),
        ]
        context = {
            "pages": pages,
            "record": record,
            "fields": [(column_label(pages.model, column), column) for column in pages.detail_fields],
            "custom_fields": detail_extras(record),
            "actions": actions,
            "may_change": may_change,
            "main_panels": [panel for panel in panels if not panel.aside],
            "aside_panels": [panel for panel in panels if panel.aside],
        }
        return render(request, pages.detail_template, context)


class RecordFormView(RecordView):
    """Create a record (no pk) or edit one: the form validates, the service writes and has the last word."""

    template_name = "core/form.html"

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        record = self._record(pk)
        initial = request.GET.dict() if record is None else None  # "New deal" from a company page: ?company=7
        return self._render(record, self._form(record, data=None, initial=initial))

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        record = self._record(pk)
        form = self._form(record, data=request.POST)
        if form.is_valid():
            try:
                if record is None:
                    saved = self.pages.create(by=request.user, data=form.cleaned_data)
                    messages.success(request, _("%(record)s was created.") % {"record": saved})
                else:
                    saved = self.pages.update(record=record, by=request.user, data=form.cleaned_data)
                    messages.success(request, _("Your changes to %(record)s were saved.") % {"record": saved})
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect_after_change(request, reverse(self.pages.url_name("detail"), args=[saved.pk]))
        return self._render(record, form)

    def _record(self, pk: int | None) -> Any:
        if pk is None:
            require(self.request.user, "records.create")  # a viewer gets the 403 page, not a form the service refuses
            return None
        record = self.get_record(pk)
        require_change(self.request.user, record)  # refuse the edit page itself, with the service's message
        return record

    def _form(self, record: Any, *, data: Any, initial: dict[str, Any] | None = None) -> forms.ModelForm:
        form_class = (self.pages.edit_form_class or self.pages.form_class) if record is not None else self.pages.form_class
        assert form_class is not None
        # The form validates a copy: ModelForm writes the typed values into its instance, and the
        # service must see the record as it is stored to know what changed.
        instance = copy.copy(record) if record is not None else None
        return form_class(data, instance=instance, initial=initial, user=self.request.user)  # type: ignore[call-arg]

    def _render(self, record: Any, form: forms.ModelForm) -> HttpResponse:
        context = {"pages": self.pages, "record": record, "form": form}
        return render(self.request, self.template_name, context)


RecordT = TypeVar("RecordT", bound=models.Model)
FormT = TypeVar("FormT", bound=ActionForm)


class RecordActionView(RecordView, Generic[RecordT, FormT]):
    """A form that runs one service on one record. Subclasses name the record and form types
    (`RecordActionView[Deal, DealWinForm]`), the form class, and `perform` the change.

    The form itself (GET) is refused like its POST: the user must have `permission` on the record.
    """

    permission = "records.change"
    form_class: type[FormT]
    title: Any = ""
    submit_label: Any = gettext_lazy("Save")
    template_name = "core/action.html"
    partial_template = "core/_action_form.html"

    def get_record(self, pk: int) -> RecordT:
        record: RecordT = super().get_record(pk)
        require(self.request.user, self.permission, record)
        return record

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        record = self.get_record(pk)
        return self.render_form(record, self.get_form(record, initial=request.GET.dict()))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        record = self.get_record(pk)
        form = self.get_form(record, data=request.POST)
        if form.is_valid():
            try:
                return self.perform(record, form)
            except ValidationError as exc:
                form.add_error(None, exc)
        return self.invalid(record, form)

    def get_form(self, record: RecordT, *, data: Any = None, initial: dict[str, Any] | None = None) -> FormT:
        return self.form_class(data, initial=initial, user=self.request.user, record=record)

    def perform(self, record: RecordT, form: FormT) -> HttpResponse:
        raise NotImplementedError

    def invalid(self, record: RecordT, form: FormT) -> HttpResponse:
        return self.render_form(record, form)

    def action_url(self) -> str:
        """Where the form posts: this page (a view that keeps query parameters, such as where it was opened, says so)."""
        return self.request.path

    def render_form(self, record: RecordT, form: FormT) -> HttpResponse:
        context = {
            "pages": self.pages,
            "record": record,
            "form": form,
            "title": self.title,
            "submit_label": self.submit_label,
            "action_url": self.action_url(),
        }
        partial = is_htmx(self.request)
        return render(self.request, self.partial_template if partial else self.template_name, context)


class RecordAutocompleteView(RecordView):
    """The few records matching `?q=` that the user may see, as options for a `RecordPicker`."""

    limit = 10

    def get(self, request: HttpRequest) -> HttpResponse:
        text = request.GET.get("q", "").strip()
        rows: list[Any] = []
        if text:
            queryset = self.pages.model._default_manager.visible_to(request.user)  # type: ignore[attr-defined]
            rows = list(search(queryset, self.pages.search_fields, text).order_by(*self.pages.default_ordering())[: self.limit])
        return render(request, "core/_picker_options.html", {"rows": rows, "q": text})


def _reverse_or_none(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The state of the database, cache, broker, worker and rollups (see core.health); 503 only when the database is down."""
    status, checks = health.report()
    return JsonResponse({"status": status, "checks": checks}, status=503 if status == health.DOWN else 200)
