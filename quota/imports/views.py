"""The import pages: upload, map the columns, dry run, commit (in the background), result, history.

The views only read forms and call `services`; the import itself runs in `tasks.run_import_job`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View
from django.views.generic import DetailView, FormView, ListView

from quota.core.queue import enqueue
from quota.core.views import PermissionRequired
from quota.imports import services, tasks
from quota.imports.forms import MAX_UPLOAD_BYTES, MappingForm, UploadForm
from quota.imports.models import ImportJob, ImportJobPhase, ImportProblem, ImportRun, SavedMapping
from quota.imports.presets import load
from quota.imports.targets import target_named

PROBLEMS_PAGE_SIZE = 100
RUNS_PAGE_SIZE = 50
SEVERITIES = ("error", "warning", "notice")


class ImportAccess(PermissionRequired):
    """`imports.run` (administrators and directors): an import can create records owned by anyone."""

    permission_required = "imports.run"


class JobMixin(ImportAccess):
    job: ImportJob

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.job = get_object_or_404(ImportJob.objects.select_related("run"), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)


class UploadView(ImportAccess, FormView):
    """Store the file and hand its reading to the worker (in this request when there is no worker)."""

    template_name = "imports/upload.html"
    form_class = UploadForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        recent = [
            (job, services.job_read_failure(job))
            for job in ImportJob.objects.filter(by=self.request.user.pk).select_related("run")[:5]
        ]
        return super().get_context_data(**kwargs, max_bytes=MAX_UPLOAD_BYTES, recent=recent)

    def form_invalid(self, form: UploadForm) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def form_valid(self, form: UploadForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            job = services.job_create(
                file=data["file"],
                holds=data["holds"],
                by=self.request.user,
                encoding=data["encoding"],
                delimiter=data["delimiter"],
            )
        except services.UploadError as error:
            form.add_error("file", str(error))
            return self.form_invalid(form)
        tasks.read_import_file.delay(job.pk)
        job.refresh_from_db()
        failure = services.job_read_failure(job)
        if failure:  # read at once (no worker): the reason belongs on this form, and the upload is not kept
            services.job_discard(job=job, by=self.request.user)
            form.add_error("file", failure)
            return self.form_invalid(form)
        return redirect("imports:map", pk=job.pk)


class MapView(JobMixin, FormView):
    template_name = "imports/map.html"
    form_class = MappingForm

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if self.job.busy:
            return redirect("imports:progress", pk=self.job.pk)
        failure = services.job_read_failure(self.job)
        if failure:
            return self._unreadable(failure)
        return super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        failure = services.job_read_failure(self.job)
        if failure:
            return self._unreadable(failure)
        if self.job.busy and self.job.phase == ImportJobPhase.UPLOADED:  # still being read: nothing to map yet
            return redirect("imports:progress", pk=self.job.pk)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: MappingForm) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def _unreadable(self, reason: str) -> HttpResponse:
        """The worker could not read the file (it is gone): say why, and offer another upload."""
        return render(self.request, "imports/unreadable.html", {"job": self.job, "reason": reason}, status=422)

    def _saved(self) -> SavedMapping | None:
        chosen = self.request.GET.get("use") or self.request.POST.get("use")
        if not chosen or not str(chosen).isdigit():
            return None
        return SavedMapping.objects.filter(pk=chosen, into=self.job.into).first()

    def get_form_kwargs(self) -> dict[str, Any]:
        self.saved = self._saved()
        self.proposal = services.job_proposal(self.job, saved=self.saved)
        target = target_named(self.job.into)
        self.target_fields = target.fields()
        kwargs = super().get_form_kwargs()
        kwargs.update(
            header=self.job.header, fields=self.target_fields, proposal=self.proposal, custom_fields=bool(target.custom_target)
        )
        kwargs.setdefault("initial", {}).update(
            on_duplicate=self.job.on_duplicate, create_missing=self.job.create_missing, blank_as_group=self.job.blank_as_group
        )
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = kwargs.get("form") or self.get_form()
        rows = [
            {"field": form[key], "column": column, "samples": [sample.get(column, "") for sample in self.job.samples]}
            for key, column in form.column_fields
        ]
        extras = [
            {"field": self.target_fields[name].label if name in self.target_fields else name, "rule": rule}
            for name, rule in self.proposal.extras.items()
        ]
        saved = SavedMapping.objects.filter(into=self.job.into, automatic=False).order_by("name")
        return super().get_context_data(
            **kwargs,
            job=self.job,
            notes=services.job_read_notes(self.job),
            rows=rows,
            extras=extras,
            saved_mappings=saved,
            chosen=self.saved,
            preset=load(self.job.preset) if self.job.preset else None,
            verbose_into=target_named(self.job.into).model._meta.verbose_name_plural,
        )

    def form_valid(self, form: MappingForm) -> HttpResponse:
        try:
            services.job_set_mapping(
                job=self.job,
                assignments=form.assignments(),
                on_duplicate=form.cleaned_data["on_duplicate"],
                create_missing=form.cleaned_data["create_missing"],
                blank_as_group=form.cleaned_data["blank_as_group"],
                by=self.request.user,
                save_as=form.cleaned_data["save_as"].strip(),
                saved=self.saved,
            )
            job = services.job_queue(job=self.job, phase=ImportJobPhase.CHECK, by=self.request.user)
        except ValidationError as error:
            form.add_error(None, error.messages)
            return self.form_invalid(form)
        enqueue(tasks.run_import_job, job.pk)
        return redirect("imports:progress", pk=job.pk)


class CommitView(JobMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        try:
            job = services.job_queue(job=self.job, phase=ImportJobPhase.COMMIT, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("imports:report", pk=self.job.pk)
        enqueue(tasks.run_import_job, job.pk)
        return redirect("imports:progress", pk=job.pk)


class RestartView(JobMixin, View):
    """Start again a dry run or commit that was stopped because its worker died or never came."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        try:
            job = services.job_restart(job=self.job, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(_finished_url(self.job))
        return redirect("imports:progress", pk=job.pk)


class ProgressView(JobMixin, View):
    """A progress bar the page polls (HTMX) until the job is done, then the report or the result."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = self.job
        finished = _finished_url(job)
        if finished and not job.busy:
            if request.headers.get("HX-Request"):
                response = HttpResponse(status=204)
                response["HX-Redirect"] = finished
                return response
            return redirect(finished)
        done, total = services.job_progress(job)
        context = {"job": job, "done": done, "total": total, "percent": int(done * 100 / total) if total else 0}
        template = "imports/_progress.html" if request.headers.get("HX-Request") else "imports/progress.html"
        return render(request, template, context)


def _finished_url(job: ImportJob) -> str:
    if job.phase == ImportJobPhase.COMMIT:
        return reverse("imports:result", args=[job.pk])
    if job.phase == ImportJobPhase.CHECK:
        return reverse("imports:report", args=[job.pk])
    return reverse("imports:map", args=[job.pk])


class ReportView(JobMixin, View):
    """A dry run's report (with the commit button) or a commit's result: counts and every problem."""

    template_name = "imports/report.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = self.job
        if job.busy or job.phase == ImportJobPhase.UPLOADED:
            return redirect(_finished_url(job) if not job.busy else reverse("imports:progress", args=[job.pk]))
        severity = request.GET.get("severity", "")
        problems = ImportProblem.objects.filter(job=job)
        if severity in SEVERITIES:
            problems = problems.filter(severity=severity)
        page = Paginator(problems.order_by("row", "id"), PROBLEMS_PAGE_SIZE).get_page(request.GET.get("page"))
        report = job.report
        context = {
            "job": job,
            "report": report,
            "committed": job.phase == ImportJobPhase.COMMIT,
            "may_commit": job.phase == ImportJobPhase.CHECK and report.get("ok"),
            "page": page,
            "severity": severity,
            "severities": SEVERITIES,
            "problems_kept": job.problems_total > services.PROBLEMS_KEPT,
            "problems_limit": services.PROBLEMS_KEPT,
        }
        if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "record-table":
            return render(request, "imports/_problems.html", context)
        return render(request, self.template_name, context)


class RunListView(ImportAccess, ListView):
    template_name = "imports/run_list.html"
    context_object_name = "runs"
    paginate_by = RUNS_PAGE_SIZE
    queryset = ImportRun.objects.select_related("by")


class RunDetailView(ImportAccess, DetailView):
    template_name = "imports/run_detail.html"
    context_object_name = "run"
    queryset = ImportRun.objects.select_related("by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        stopped = ImportJob.objects.filter(run=self.object, stopped_reason__gt="").first()  # lost its worker: may restart
        return super().get_context_data(**kwargs, report=self.object.report, stopped_job=stopped)
