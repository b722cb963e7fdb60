"""The global search page: `/search/?q=text`, the matches grouped by kind of record."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from quota.search.selectors import MIN_LENGTH, global_search

MAX_LENGTH = 100  # longer text is cut: nobody names a record in more, and every word is a condition


@login_required
def results(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "").strip()[:MAX_LENGTH]
    context = {
        "q": text,
        "groups": global_search(user=request.user, text=text),
        "too_short": 0 < len(text) < MIN_LENGTH,
        "min_length": MIN_LENGTH,
    }
    return render(request, "search/results.html", context)
