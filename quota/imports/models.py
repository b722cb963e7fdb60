"""Import runs (what was imported, by whom, with which result) and saved column mappings."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportRunStatus(models.TextChoices):
    COMMITTED = "committed", _("Committed")
    FAILED = "failed", _("Failed: nothing imported")


class ImportRun(models.Model):
    """One attempt to commit an import (dry runs are not recorded: they write nothing)."""

    title = models.CharField(_("title"), max_length=200)
    preset = models.CharField(_("preset"), max_length=50, blank=True, default="")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(_("status"), max_length=10, choices=ImportRunStatus.choices)
    reason = models.TextField(_("result"), blank=True, default="")
    on_duplicate = models.CharField(_("on duplicate"), max_length=8, default="skip")
    skip_bad_rows = models.BooleanField(_("skip bad rows"), default=False)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    files = models.JSONField(_("files"), default=list, blank=True)
    mappings = models.JSONField(_("mappings"), default=list, blank=True, help_text=_("Each step's mapping, as used."))
    created = models.PositiveIntegerField(_("records created"), default=0)
    updated = models.PositiveIntegerField(_("records updated"), default=0)
    rejected = models.PositiveIntegerField(_("rows rejected"), default=0)
    report = models.JSONField(_("report"), default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")
        indexes = [models.Index(fields=["started_at"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_status_display()})"


class SavedMapping(models.Model):
    """A column mapping kept under a name, to import the same kind of file again."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    into = models.CharField(_("records"), max_length=20)
    mapping = models.JSONField(_("mapping"), default=dict)
    # The file's columns (see `header_signature`): the upload page pre-fills the mapping of a file
    # with the same columns. Automatic ones are kept by the pages themselves, named ones by a person.
    signature = models.CharField(_("columns signature"), max_length=64, blank=True, default="", db_index=True)
    automatic = models.BooleanField(_("remembered automatically"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("saved mapping")
        verbose_name_plural = _("saved mappings")

    def __str__(self) -> str:
        return self.name


def upload_path(job: ImportJob, filename: str) -> str:
    return f"imports/{timezone.now():%Y/%m}/{filename}"


class ImportJobPhase(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    CHECK = "check", _("Dry run")
    COMMIT = "commit", _("Commit")


class ImportJobState(models.TextChoices):
    WAITING = "waiting", _("Waiting for a worker")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")


class ImportJob(models.Model):
    """An import made in the web pages: the uploaded file, its mapping, and its dry run or commit.

    It outlives the request so the mapping page, the background task and the progress page all read
    the same file; the commit itself is recorded as an ImportRun.
    """

    file = models.FileField(_("file"), upload_to=upload_path, max_length=300)
    file_name = models.CharField(_("file name"), max_length=255)
    into = models.CharField(_("records"), max_length=20)
    preset = models.CharField(_("preset"), max_length=50, blank=True, default="")
    encoding = models.CharField(_("encoding"), max_length=30, blank=True, default="")
    delimiter = models.CharField(_("delimiter"), max_length=1, blank=True, default="")
    header = models.JSONField(_("columns"), default=list)
    samples = models.JSONField(_("sample rows"), default=list, blank=True)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    mapping = models.JSONField(_("mapping"), default=dict, blank=True)
    on_duplicate = models.CharField(_("on duplicate"), max_length=8, default="skip")
    create_missing = models.BooleanField(
        _("create what is missing"), default=False, help_text=_("Lead sources, loss reasons and custom fields the file names.")
    )
    blank_as_group = models.BooleanField(_("blank lead source as (blank)"), default=False)
    phase = models.CharField(_("phase"), max_length=10, choices=ImportJobPhase.choices, default=ImportJobPhase.UPLOADED)
    state = models.CharField(_("state"), max_length=10, choices=ImportJobState.choices, default=ImportJobState.DONE)
    report = models.JSONField(_("report"), default=dict, blank=True)
    problems_total = models.PositiveIntegerField(_("problems"), default=0)
    run = models.ForeignKey(
        ImportRun, verbose_name=_("import run"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Who runs it and whether they are alive (see imports.recovery): a run whose worker died, or that no
    # worker started, is stopped with the reason, and may be started again.
    worker = models.CharField(_("worker"), max_length=200, blank=True, default="", help_text=_("host:pid of the run."))
    run_token = models.CharField(_("run"), max_length=32, blank=True, default="")
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    stopped_reason = models.TextField(_("stopped because"), blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")

    def __str__(self) -> str:
        return f"{self.file_name} -> {self.into}"

    @property
    def busy(self) -> bool:
        return self.state != ImportJobState.DONE

    @property
    def restartable(self) -> bool:
        """Stopped because its worker died or never came: the same dry run or commit may run again."""
        return bool(self.stopped_reason) and not self.busy


class ImportProblem(models.Model):
    """One problem of a job's latest dry run or commit, with its row, column, value and why."""

    job = models.ForeignKey(ImportJob, verbose_name=_("import job"), on_delete=models.CASCADE, related_name="problems")
    step = models.CharField(_("step"), max_length=100, blank=True, default="")
    severity = models.CharField(_("severity"), max_length=8)
    kind = models.CharField(_("kind"), max_length=40)
    row = models.PositiveIntegerField(_("row"), null=True, blank=True)
    column = models.CharField(_("column"), max_length=255, blank=True, default="")
    value = models.TextField(_("value"), blank=True, default="")
    message = models.TextField(_("why"))

    class Meta:
        ordering = ["job", "row", "id"]
        verbose_name = _("import problem")
        verbose_name_plural = _("import problems")
        indexes = [models.Index(fields=["job", "severity", "row"], name="imports_problem_job_sev_row")]

    def __str__(self) -> str:
        return self.message
