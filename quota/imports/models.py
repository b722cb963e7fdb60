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
