"""Report pages: the list, the form, a report with its history ("Send now", files, live progress), a preview."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import PurePosixPath

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from quota.core.htmx import is_htmx
from quota.core.permissions import require
from quota.reports import selectors, services
from quota.reports.forms import ReportForm
from quota.reports.renderers import RENDERERS

# "Send now" posts a token the page made (empty from an older page: then only a pending delivery stops a repeat).
SEND_TOKEN = re.compile(r"[A-Za-z0-9_-]{0,64}")
NEW_REPORT = {
    "formats": ["pdf"],
    "periods": ["last_week"],
    "frequency": "weekly",
    "weekday": 0,
    "send_at": dt.time(7, 0),
    "is_active": True,
}


@login_required
def report_list(request: HttpRequest) -> HttpResponse:
    reports = selectors.reports_for(request.user).order_by("name")
    return render(
        request, "reports/report_list.html", {"reports": reports, "may_create": request.user.has_perm("reports.define")}
    )


@login_required
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(selectors.reports_for(request.user), pk=pk)
    return render(
        request,
        "reports/report_detail.html",
        {
            "report": report,
            "deliveries": selectors.deliveries_of(report),
            "may_change": request.user.has_perm("reports.change", report),
            "recipients": list(report.recipients.all()),
            "labels": selectors.report_labels(report),
            "send_token": uuid.uuid4().hex,
        },
    )


@login_required
def report_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    report = get_object_or_404(selectors.reports_for(request.user), pk=pk) if pk else None
    if report is None:
        require(request.user, "reports.define")
    else:
        require(request.user, "reports.change", report)
    initial = ReportForm.initial_for(report) if report else NEW_REPORT
    form = ReportForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            if report is None:
                report = services.report_create(by=request.user, **form.service_data())
            else:
                report = services.report_update(report=report, by=request.user, data=form.service_data())
        except ValidationError as error:
            form.add_service_error(error)
        else:
            return redirect("reports:report_detail", pk=report.pk)
    return render(request, "reports/report_form.html", {"form": form, "report": report})


@login_required
@require_POST
def report_send(request: HttpRequest, pk: int) -> HttpResponse:
    """Send now, once per press: the page's one-time token makes a retried or repeated post say so instead."""
    report = get_object_or_404(selectors.reports_for(request.user), pk=pk)
    token = request.POST.get("send_token", "")
    if not SEND_TOKEN.fullmatch(token):
        return HttpResponseBadRequest(_("This Send now button is out of date: reload the page and press it again."))
    notice = ""
    try:
        services.report_send_now(report=report, by=request.user, token=token)
    except services.AlreadyRequested as repeat:
        notice = repeat.message
    if is_htmx(request):
        context = {"report": report, "deliveries": selectors.deliveries_of(report), "notice": notice}
        return render(request, "reports/_deliveries.html", context)
    if notice:
        messages.info(request, notice)
    return redirect("reports:report_detail", pk=report.pk)


@login_required
def report_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The report as it stands now, on a page, with its files to download: nothing is sent."""
    report = get_object_or_404(selectors.reports_for(request.user), pk=pk)
    content = services.report_preview(report=report, by=request.user)
    return render(request, "reports/report_preview.html", {"report": report, "content": content, "formats": list(RENDERERS)})


@login_required
def report_download(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """One format of the report as it stands now, for the person asking alone."""
    report = get_object_or_404(selectors.reports_for(request.user), pk=pk)
    if fmt not in RENDERERS:
        raise Http404
    name, data = services.report_download(report=report, by=request.user, fmt=fmt)
    response = HttpResponse(data, content_type=RENDERERS[fmt].content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
    return response


@login_required
def delivery_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """One history row; while the delivery runs, the row polls this view every second."""
    delivery = selectors.delivery_for(request.user, pk)
    if delivery is None:
        raise Http404
    return render(request, "reports/_delivery.html", {"delivery": delivery})


@login_required
def delivery_file(request: HttpRequest, pk: int, fmt: str) -> FileResponse:
    delivery = selectors.delivery_for(request.user, pk)
    stored = delivery.file_for(fmt) if delivery is not None else None
    if stored is None or fmt not in RENDERERS:
        raise Http404
    name = PurePosixPath(stored.name or f"report.{fmt}").name
    return FileResponse(stored.open("rb"), as_attachment=True, filename=name, content_type=RENDERERS[fmt].content_type)
