"""The audit page (directors and administrators), its export, and the change history on record pages."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy
from django.views import View

from quota.audit.exports import audit_table
from quota.audit.forms import AuditFilterForm
from quota.audit.selectors import AuditFilter, audit_entries, describe, entries_of
from quota.core.exports import UnknownFormat, export_response
from quota.core.htmx import htmx_target
from quota.core.views import CappedPaginator, Panel, PermissionRequired

HISTORY_LENGTH = 20  # entries on a record's page; the audit page has them all


class AuditView(PermissionRequired, View):
    """Base of the audit pages: directors and administrators only (the 403 page with the reason for others)."""

    permission_required = "audit.view"


class AuditLogView(AuditView):
    """/audit/: every recorded change, newest first, filtered by record type, record, user, field and dates."""

    paginate_by = 50

    def get(self, request: HttpRequest) -> HttpResponse:
        form = AuditFilterForm(request.GET or None)
        entries = page = None
        if not form.is_bound or form.is_valid():
            wanted = form.wanted() if form.is_bound else AuditFilter()
            page = CappedPaginator(audit_entries(wanted), self.paginate_by).get_page(request.GET.get("page"))
            entries = describe(page.object_list, only_field=wanted.field)
        context = {
            "form": form,
            "page": page,
            "entries": entries,
            "filters_active": form.is_bound and any(request.GET.get(name) for name in form.fields),
            "export_url": reverse("audit:export"),
        }
        partial = htmx_target(request) == "record-table"
        return render(request, "audit/_table.html" if partial else "audit/log.html", context)


class AuditExportView(AuditView):
    """The filtered trail as CSV or XLSX (`?format=csv|xlsx`): one row per changed field."""

    def get(self, request: HttpRequest) -> HttpResponseBase:
        form = AuditFilterForm(request.GET)
        if not form.is_valid():
            return HttpResponseBadRequest(" ".join(str(error) for errors in form.errors.values() for error in errors))
        wanted = form.wanted()
        try:
            return export_response(audit_table(audit_entries(wanted), only_field=wanted.field), request.GET.get("format", "csv"))
        except UnknownFormat as exc:
            return HttpResponseBadRequest(str(exc))


# --------------------------------------------------------------------------- on record pages


class HasChangeHistory:
    """A RecordPages mixin: the detail page shows the record's recorded changes (owner, amount, stage...)."""

    @classmethod
    def panels(cls, request: HttpRequest, record: Any) -> list[Panel]:
        return [*super().panels(request, record), history_panel(request, record)]  # type: ignore[misc]


def history_panel(request: HttpRequest, record: Any) -> Panel:
    """The latest changes of a record its page shows (whoever sees the record sees them), newest first."""
    rows = list(entries_of(record)[: HISTORY_LENGTH + 1])
    all_url = None
    if request.user.has_perm("audit.view"):
        kind = ContentType.objects.get_for_model(type(record)).pk
        all_url = f"{reverse('audit:log')}?{urlencode({'kind': kind, 'record': record.pk})}"
    return Panel(
        template="audit/_history.html",
        title=gettext_lazy("Change history"),
        data={"entries": describe(rows[:HISTORY_LENGTH]), "more": len(rows) > HISTORY_LENGTH, "all_url": all_url},
    )
