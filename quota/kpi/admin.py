"""KPI definitions and targets in the admin.

A KPI version is what targets point to, so it is never edited in place: adding one here saves
the next version of its key (as the builder does). Rollups are a cache that `quota kpi rollup`
builds and writes keep current; they are shown for inspection only.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from quota.kpi import definitions
from quota.kpi.models import Metric, Rollup, RollupState, Target
from quota.kpi.services import metric_save_version


@admin.register(Metric)
class MetricAdmin(admin.ModelAdmin):
    list_display = ["key", "version", "name", "is_current", "is_builtin", "created_at"]
    list_filter = ["is_builtin", "is_current"]
    search_fields = ["key", "name"]
    fields = ("key", "name", "description", "definition")

    def get_readonly_fields(self, request: HttpRequest, obj: Metric | None = None) -> list[str]:
        shown = ["key", "name", "description", "definition"]
        return [*shown, "version", "is_current", "is_builtin", "created_by", "created_at"] if obj else []

    def save_model(self, request: HttpRequest, obj: Metric, form: Any, change: bool) -> None:
        if change:
            return  # nothing is editable in place
        saved = metric_save_version(
            key=obj.key, name=obj.name, description=obj.description, definition=definitions.parse(obj.definition), by=request.user
        )
        obj.pk, obj.version = saved.pk, saved.version


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ["metric", "user", "team", "period", "start", "end", "value", "team_target"]
    list_filter = ["period", "team_target"]
    search_fields = ["metric__key", "user__username", "team__name"]
    raw_id_fields = ["metric", "user", "team", "created_by"]
    list_select_related = ["metric", "user", "team"]


class BuiltByCommand(admin.ModelAdmin):
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": self.model._meta.verbose_name_plural,
        }
        return TemplateResponse(request, "admin/kpi/built_by_command.html", context)


@admin.register(RollupState)
class RollupStateAdmin(BuiltByCommand):
    list_display = ["source", "date", "leaf", "max_pk", "time_zone", "built_at"]
    list_filter = ["source"]
    search_fields = ["leaf", "source"]


@admin.register(Rollup)
class RollupAdmin(BuiltByCommand):
    list_display = ["state", "grain", "bucket", "owner", "value"]
    list_filter = ["grain"]
    list_select_related = ["state", "owner"]
