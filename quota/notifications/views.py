"""The notifications page: the list, and marking one or all as read."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from quota.notifications.selectors import notifications_for, unread_count
from quota.notifications.services import notifications_mark_read

PAGE_SIZE = 30


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(notifications_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page, "unread": unread_count(request.user)})


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Mark one (or, without `pk`, every) notification read, then go to its link or back to the list."""
    notifications_mark_read(user=request.user, ids=None if pk is None else [pk])
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("notifications:list")
