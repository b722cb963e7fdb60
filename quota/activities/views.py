"""Activity pages, the timeline every customer record shows, and logging a call in two clicks."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_htmx.http import reswap, retarget

from quota.activities.filtersets import ActivityFilterSet
from quota.activities.forms import QUICK_LOG_KINDS, ActivityForm, QuickLogForm
from quota.activities.models import Activity
from quota.core.services import record_create
from quota.core.views import Column, Panel, RecordActionView, RecordPages, redirect_after_change

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


class HasTimeline:
    """A RecordPages mixin: the detail page shows the activities `activity_condition` selects.

    With `log_target` set ("deal", "contact" or "company"), the timeline also offers logging a
    call, e-mail or meeting against the record in two clicks.
    """

    log_target: ClassVar[str | None] = None

    @classmethod
    def activity_condition(cls, record: Any) -> Q | None:
        raise NotImplementedError

    @classmethod
    def panels(cls, request: HttpRequest, record: Any) -> list[Panel]:
        panels = super().panels(request, record)  # type: ignore[misc]
        condition = cls.activity_condition(record)
        return [*panels, timeline_panel(request, record, condition=condition, log_target=cls.log_target)] if condition else panels


def timeline_panel(request: HttpRequest, record: Any, *, condition: Q, log_target: str | None) -> Panel:
    """The latest activities matching `condition` that the user may see, newest first."""
    rows = list(
        Activity.objects.visible_to(request.user)
        .filter(condition)
        .select_related("owner")
        .order_by("-occurred_at", "-pk")[: TIMELINE_LENGTH + 1]
    )
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
        },
    )


class QuickLogView(RecordActionView):
    """Log a call, e-mail or meeting against a deal, contact or company, in place on its page.

    Given `pages` (whose records it logs against, visible to the user) and `link` (the Activity
    field that points at them). On success an HTMX request gets the refreshed timeline.
    """

    link: str = "deal"
    form_class = QuickLogForm
    submit_label = gettext_lazy("Save")

    def render_form(self, record: Any, form: QuickLogForm) -> HttpResponse:  # type: ignore[override]
        self.title = dict(QUICK_LOG_KINDS)[form.activity_kind]
        return super().render_form(record, form)

    def perform(self, record: Any, form: QuickLogForm) -> HttpResponse:  # type: ignore[override]
        links: dict[str, Any] = {self.link: record}
        if self.link == "deal":
            links.update(contact_id=record.contact_id, company_id=record.company_id)
        elif self.link == "contact":
            links.update(company_id=record.company_id)
        activity = record_create(model=Activity, by=self.request.user, owner=self.request.user, **links, **form.activity_fields())
        if not getattr(self.request, "htmx", False):
            messages.success(self.request, _("%(activity)s was logged.") % {"activity": activity.get_kind_display()})
            return redirect_after_change(self.request, reverse(self.pages.url_name("detail"), args=[record.pk]))
        pages: Any = self.pages  # a HasTimeline RecordPages (see urls.py)
        panel = timeline_panel(self.request, record, condition=pages.activity_condition(record), log_target=self.link)
        response = render(self.request, "activities/_timeline.html", {"panel": panel, "logged": activity})
        return reswap(retarget(response, "#timeline"), "outerHTML")
