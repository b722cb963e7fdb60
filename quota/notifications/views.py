"""The notifications page: the list, marking one or all as read, the daily digest preference; the bell's menu."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from quota.notifications.selectors import digest_enabled, notifications_for, unread_count
from quota.notifications.services import digest_preference_set, notifications_mark_read

PAGE_SIZE = 30
MENU_SIZE = 5


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(notifications_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "unread": unread_count(request.user), "daily_digest": digest_enabled(request.user)}
    return render(request, "notifications/list.html", context)


@login_required
def notification_menu(request: HttpRequest) -> HttpResponse:
    """The bell's menu (loaded when it opens): the latest few notifications."""
    latest = notifications_for(request.user)[:MENU_SIZE]
    return render(request, "notifications/_menu.html", {"latest": latest})


@login_required
@require_POST
def digest_preference(request: HttpRequest) -> HttpResponse:
    """Turn the daily e-mail digest on or off (the checkbox is sent only when ticked)."""
    on = request.POST.get("daily_digest") == "on"
    digest_preference_set(user=request.user, daily_digest=on)
    messages.success(request, _("You will get a daily e-mail digest.") if on else _("You will get no daily e-mail digest."))
    return redirect("notifications:list")


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Mark one (or, without `pk`, every) notification read, then go to its link or back to the list."""
    notifications_mark_read(user=request.user, ids=None if pk is None else [pk])
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("notifications:list")
