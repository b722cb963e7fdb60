"""Activity pages, the timeline every customer record shows, and logging a call in two clicks."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_htmx.http import reswap, retarget

from quota.activities import services
from quota.activities.filtersets import ActivityFilterSet
from quota.activities.forms import QUICK_LOG_KINDS, ActivityForm, QuickLogForm, TaskStatusForm
from quota.activities.models import Activity, ActivityKind
from quota.core.htmx import htmx_target, is_htmx
from quota.core.services import record_create
from quota.core.views import (
    LOGGING_PAGES,
    Action,
    Column,
    Panel,
    RecordActionView,
    RecordPages,
    record_url,
    redirect_after_change,
)
from quota.core.visibility import changeable_owner_ids, may_change_owned_by

TIMELINE_LENGTH = 20


class ActivityPages(RecordPages):
    model = Activity
    slug = ""  # /activities/ is the app's own prefix
    filterset_class = ActivityFilterSet
    form_class = ActivityForm
    search_fields = ("subject",)
    related = ("owner", "deal", "contact", "company")
    columns = (
        Column("kind", sort="kind"),
        Column("subject", link=True, sort="subject"),
        Column("deal"),
        Column("contact"),
        Column("company"),
        Column("owner", sort="owner__last_name"),
        Column("occurred_at", sort="occurred_at"),
        Column("completed_at", sort="completed_at"),  # a task's "done"
    )
    detail_fields = (
        Column("kind"),
        Column("occurred_at"),
        Column("owner"),
        Column("deal"),
        Column("contact"),
        Column("company"),
        Column("direction"),
        Column("answered"),
        Column("duration_seconds"),
        Column("opened"),
        Column("held"),
        Column("completed_at"),
        Column("notes"),
    )

    @classmethod
    def actions(cls, request: HttpRequest, record: Activity) -> list[Action]:
        if record.kind != ActivityKind.TASK:
            return []
        if record.completed_at is None:
            return [Action(_("Mark done"), reverse("activities:task_done", args=[record.pk]), style="primary")]
        return [Action(_("Reopen"), reverse("activities:task_reopen", args=[record.pk]))]


def timeline_feed(request: HttpRequest, pages: type[RecordPages], record: Any) -> Panel | None:
    """The timeline panel of any record page whose `activity_condition` selects activities (registered in apps.py)."""
    condition = pages.activity_condition(record)
    return timeline_panel(request, record, condition=condition, log_target=pages.log_target) if condition else None


def timeline_panel(request: HttpRequest, record: Any, *, condition: Q, log_target: str | None) -> Panel:
    """The latest activities matching `condition` that the user may see, newest first."""
    rows = list(
        Activity.objects.visible_to(request.user)
        .filter(condition)
        .select_related("owner")
        .order_by("-occurred_at", "-pk")[: TIMELINE_LENGTH + 1]
    )
    user: Any = request.user  # signed in: the record pages require it
    owner_ids = changeable_owner_ids(user)
    tasks_to_tick = {
        row.pk for row in rows if row.kind == ActivityKind.TASK and may_change_owned_by(user, row.owner_id, owner_ids)
    }
    log_url = reverse(f"activities:quick_log_{log_target}", args=[record.pk]) if log_target else None
    all_url = f"{reverse('activities:activity_list')}?{log_target}={record.pk}" if log_target else None
    return Panel(
        template="activities/_timeline.html",
        title=gettext_lazy("Activity"),
        aside=True,
        data={
            "activities": rows[:TIMELINE_LENGTH],
            "more": len(rows) > TIMELINE_LENGTH,
            "log_url": log_url,
            "all_url": all_url,
            "kinds": QUICK_LOG_KINDS,
            "tasks_to_tick": tasks_to_tick,  # the tasks whose Done/Reopen button the user gets
            "back": record_url(record),  # where a Done/Reopen without JavaScript returns
        },
    )


class QuickLogView(RecordActionView[Any, QuickLogForm]):
    """Log a call, e-mail or meeting against a deal, contact or company, in place on its page.

    Given `link` (the Activity field that points at the record): the record pages that declared it as their
    `log_target` give the records the user may see. On success an HTMX request gets the refreshed timeline.
    """

    link: str = "deal"

    @staticmethod
    def pages_for_link(link: str) -> type[RecordPages]:
        return LOGGING_PAGES[link]

    def setup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        self.pages = self.pages_for_link(self.link)

    permission = "records.create"  # anyone who creates records logs against a record they see (the activity is theirs)
    form_class = QuickLogForm
    submit_label = gettext_lazy("Save")

    def render_form(self, record: Any, form: QuickLogForm) -> HttpResponse:
        self.title = dict(QUICK_LOG_KINDS)[form.activity_kind]
        return super().render_form(record, form)

    def perform(self, record: Any, form: QuickLogForm) -> HttpResponse:
        links: dict[str, Any] = {self.link: record}
        if self.link == "deal":
            links.update(contact_id=record.contact_id, company_id=record.company_id)
        elif self.link == "contact":
            links.update(company_id=record.company_id)
        activity = record_create(model=Activity, by=self.request.user, owner=self.request.user, **links, **form.activity_fields())
        if not is_htmx(self.request):
            messages.success(self.request, _("%(activity)s was logged.") % {"activity": activity.get_kind_display()})
            return redirect_after_change(self.request, reverse(self.pages.url_name("detail"), args=[record.pk]))
        panel = timeline_feed(self.request, self.pages, record)
        response = render(self.request, "activities/_timeline.html", {"panel": panel, "logged": activity})
        return reswap(retarget(response, "#timeline"), "outerHTML")


class TaskStatusView(RecordActionView[Activity, TaskStatusForm]):
    """Mark a task done (`done=True`) or reopen it, given `pages=ActivityPages`.

    From the task's page it is the Edit-like action: its button, then confirm (two clicks). From a
    timeline it is one click: the item posts itself (HX-Target `activity-<id>`) and gets itself back;
    so does a row of "My tasks today" (HX-Target `my-task-<id>`).
    """

    form_class = TaskStatusForm
    done: bool = True

    def get_record(self, pk: int) -> Activity:
        task = super().get_record(pk)
        self.title = _("Mark the task done?") if self.done else _("Reopen the task?")
        self.submit_label = _("Mark done") if self.done else _("Reopen")
        return task

    def perform(self, record: Activity, form: TaskStatusForm) -> HttpResponse:
        if self.done:
            task = services.task_complete(task=record, by=self.request.user)
        else:
            task = services.task_reopen(task=record, by=self.request.user)
        back = self.request.POST.get("back", "")
        target = htmx_target(self.request)
        if target == f"activity-{task.pk}":
            context = {"activity": task, "tasks_to_tick": {task.pk}, "back": back}
            return render(self.request, "activities/_timeline_item.html", context)
        if target == f"my-task-{task.pk}":  # "My tasks today" on the seller's dashboard
            return render(self.request, "activities/_my_task.html", {"task": task})
        done = _("%(task)s is done.") if task.completed_at else _("%(task)s is open again.")
        messages.success(self.request, done % {"task": task.subject or task.get_kind_display()})
        if not back or not url_has_allowed_host_and_scheme(back, {self.request.get_host()}, self.request.is_secure()):
            back = reverse("activities:activity_detail", args=[task.pk])
        return redirect_after_change(self.request, back)
