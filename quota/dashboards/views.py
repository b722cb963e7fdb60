"""Dashboard pages: the role boards, a KPI in depth, the targets grid, the KPI builder and a user's own cards.

Views stay thin: they read the period and choices from GET parameters (so every URL can be shared),
call the selectors in `boards`, `selectors/` and `target_grid`, and render. An HTMX request gets
the part of the same page it targets (the board body, a KPI breakdown, the builder preview).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from quota.accounts.models import Team
from quota.core.exports import UnknownFormat, export_response
from quota.core.htmx import htmx_target, is_htmx
from quota.core.pagecache import live_page
from quota.core.permissions import require
from quota.core.views import forbidden
from quota.dashboards import services
from quota.dashboards.access import Board, boards_for, everything_scope, home_board, scope_for, scope_from, scopes_for
from quota.dashboards.boards import BoardRequest, build
from quota.dashboards.builder_preview import builder_preview_context, preview_data
from quota.dashboards.cards import CardRequest, company_today, kpi_cards
from quota.dashboards.charts import Series, category_chart
from quota.dashboards.exports import breakdown_table, target_grid_table, trend_table
from quota.dashboards.models import DashboardCard
from quota.dashboards.periods import Period, PeriodForm, period_from
from quota.dashboards.records import records_link
from quota.dashboards.selectors.kpi import breakdown, breakdowns_for, monthly_trend
from quota.dashboards.target_grid import (
    COMPANY,
    DEFAULT_KPIS,
    GridChoiceForm,
    TargetCellsForm,
    TargetGrid,
    target_grid,
)
from quota.kpi import dimensions
from quota.kpi.engine import reading_once
from quota.kpi.forms import KpiBuilderForm
from quota.kpi.models import Metric, TargetPeriod
from quota.kpi.sources import get_source

# --------------------------------------------------------------------------- boards


@login_required
@live_page
def home(request: HttpRequest) -> HttpResponse:
    """Each user lands on their role's dashboard."""
    return _board_page(request, home_board(request.user))


@login_required
@live_page
def board(request: HttpRequest, board: str) -> HttpResponse:
    try:
        chosen = Board(board)
    except ValueError:
        raise Http404 from None
    require(request.user, f"dashboards.view_{chosen.value}")
    return _board_page(request, chosen)


def _period(request: HttpRequest, now: dt.datetime) -> tuple[Period, PeriodForm]:
    return period_from(request.GET, company_today(now))


def _form_errors(form: Any) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


def _htmx_period_refusal(request: HttpRequest, period_form: PeriodForm) -> HttpResponse | None:
    """An HTMX request for a period that cannot be shown gets its reason alone, as a 400 (the page keeps what it shows).

    A whole page shows the picker with the reason above this month's figures, also as a 400.
    """
    if period_form.errors and is_htmx(request):
        return render(request, "core/_error.html", {"message": _form_errors(period_form)}, status=400)
    return None


def _board_page(request: HttpRequest, chosen: Board) -> HttpResponse:
    now = timezone.now()
    period, period_form = _period(request, now)
    refused = _htmx_period_refusal(request, period_form)
    if refused is not None:
        return refused
    with reading_once():  # its sections read the KPIs' versions and the rollups' freshness once
        context = build(BoardRequest(chosen, request.user, period, now))
    context.update(
        board=chosen,
        boards=boards_for(request.user),
        period=period,
        period_form=period_form,
        scope=scope_for(request.user, chosen),
        body_template=f"dashboards/boards/{chosen.value}.html",
        page_url=reverse("dashboards:board", args=[chosen.value]),
    )
    partial = htmx_target(request) == "dashboard"
    status = 400 if period_form.errors else 200
    return render(request, "dashboards/_dashboard.html" if partial else "dashboards/board.html", context, status=status)


# --------------------------------------------------------------------------- one KPI


@login_required
@live_page
def kpi_detail(request: HttpRequest, key: str) -> HttpResponse:
    """A KPI in depth: its card, 13 months beside last year, a breakdown and the records behind it."""
    with reading_once():  # its card, trend and breakdown read the KPIs' versions and the rollups' freshness once
        return _kpi_detail(request, key)


def _kpi_detail(request: HttpRequest, key: str) -> HttpResponse:
    metric = get_object_or_404(Metric.objects.current(), key=key)
    now = timezone.now()
    period, period_form = _period(request, now)
    refused = _htmx_period_refusal(request, period_form)
    if refused is not None:
        return refused
    scope = scope_from(request.user, request.GET.get("scope"), everything_scope(request.user))
    choices, by = _breakdown_by(request, metric)
    today = company_today(now)
    split = breakdown(metric, user=request.user, period=period, by=by, today=today) if choices else None
    context: dict[str, Any] = {
        "metric": metric,
        "period": period,
        "period_form": period_form,
        "by": by,
        "by_choices": [(choice, _grouping_label(choice, metric)) for choice in choices],
        "by_label": _grouping_label(by, metric),
        "breakdown": split,
        "breakdown_chart": _breakdown_chart(metric, split) if split else None,
        "page_url": request.path,
        "scope": scope,
        "scopes": scopes_for(request.user),
    }
    if htmx_target(request) == "breakdown":
        return render(request, "dashboards/_breakdown.html", context)
    trend = monthly_trend([metric], user=request.user, end=period.end, by=scope.by, group=scope.group)
    context.update(
        card=kpi_cards([CardRequest(key)], user=request.user, scope=scope, period=period, query=period.querystring, now=now)[0],
        trend=trend,
        trend_rows=trend.rows(key, metric.unit),
        trend_chart=category_chart(
            trend.axis_labels,
            [
                Series(_("This year"), trend.values[key], metric.unit, kind="line"),
                Series(_("A year earlier"), trend.last_year[key], metric.unit, kind="line", role="previous"),
            ],
        ),
        records=records_link(
            metric.parsed, start=period.start, end=period.end, today=today, scope=scope.records_filter, kpi=metric.key
        ),
        boards=[(b, b.label) for b in boards_for(request.user)],
        on_boards=set(DashboardCard.objects.filter(user=cast(Any, request.user), metric_key=key).values_list("board", flat=True)),
        home=home_board(request.user),
    )
    if htmx_target(request) == "kpi-body":
        return render(request, "dashboards/_kpi_body.html", context)
    return render(request, "dashboards/kpi.html", context, status=400 if period_form.errors else 200)


def _breakdown_by(request: HttpRequest, metric: Metric) -> tuple[list[str], str]:
    """The groupings the KPI allows, and the one `?by=` asks for (the first allowed otherwise)."""
    choices = breakdowns_for(metric)
    requested = request.GET.get("by", "")
    return choices, requested if requested in choices else (choices[0] if choices else "none")


@login_required
def kpi_export(request: HttpRequest, key: str) -> HttpResponseBase:
    """A table of the KPI page as a file, for the page's period: `?table=breakdown` (with its `by`) or
    `?table=trend` (the 13 months), and `format=csv|xlsx`."""
    require(request.user, "records.export")
    metric = get_object_or_404(Metric.objects.current(), key=key)
    now = timezone.now()
    period, period_form = _period(request, now)
    if period_form.errors:  # a file of this month's figures would pass for the period asked for
        return HttpResponseBadRequest(_form_errors(period_form))
    which = request.GET.get("table", "breakdown")
    if which == "trend":
        scope = scope_from(request.user, request.GET.get("scope"), everything_scope(request.user))
        table = trend_table(metric, monthly_trend([metric], user=request.user, end=period.end, by=scope.by, group=scope.group))
    elif which == "breakdown":
        choices, by = _breakdown_by(request, metric)
        if not choices:
            return HttpResponseBadRequest(_("This KPI cannot be broken down."))
        split = breakdown(metric, user=request.user, period=period, by=by, today=company_today(now))
        table = breakdown_table(metric, split, by_label=_grouping_label(by, metric))
    else:
        return HttpResponseBadRequest(_("Unknown table “%(table)s”: use breakdown or trend.") % {"table": which})
    try:
        return export_response(table, request.GET.get("format", "csv"))
    except UnknownFormat as exc:
        return HttpResponseBadRequest(str(exc))


def _grouping_label(by: str, metric: Metric | None = None) -> str:
    return dimensions.title(by, get_source(metric.parsed.source) if metric else None)


def _breakdown_chart(metric: Metric, split: Any) -> dict:
    rows = split.rows[:15]
    return category_chart(
        [row.label for row in rows], [Series(metric.display_name, [row.value for row in rows], metric.unit)], horizontal=True
    )


# --------------------------------------------------------------------------- a user's own cards


@login_required
@require_POST
def card_add(request: HttpRequest) -> HttpResponse:
    key = request.POST.get("key", "")
    board_key = request.POST.get("board") or home_board(request.user).value
    try:
        services.card_add(user=request.user, key=key, board=board_key)
    except PermissionDenied as exc:
        return forbidden(request, exc)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The KPI is on your %(board)s dashboard.") % {"board": Board(board_key).label})
    return redirect(_next_url(request, reverse("dashboards:board", args=[board_key])))


@login_required
@require_POST
def card_remove(request: HttpRequest, pk: int) -> HttpResponse:
    services.card_remove(user=request.user, card_id=pk)
    messages.success(request, _("The card was removed from your dashboard."))
    return redirect(_next_url(request, reverse("home")))


def _next_url(request: HttpRequest, default: str) -> str:
    url = request.POST.get("next", "")
    return url if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}) else default


# --------------------------------------------------------------------------- targets


@login_required
@require_http_methods(["GET", "POST"])
def targets(request: HttpRequest) -> HttpResponse:
    """Targets of a team and its members (or of the company and its teams) for one period, in one grid.

    Managers set their team's, directors and administrators anyone's; others see their own team's, read only.
    """
    user: Any = request.user
    choice, grid = _chosen_grid(request, timezone.now())
    if grid is None:
        if request.method == "POST" and (not choice.errors or "team" in choice.errors):  # a grid the user may not see
            raise PermissionDenied(_("You cannot set these targets."))
        # Parameters that choose no grid are a bad request; a person without a team asking for nothing is not.
        status = 400 if request.GET else 200
        return render(request, "dashboards/targets.html", {"choice": choice, "grid": None, "form": None}, status=status)
    may_edit = services.may_set_targets(user, grid.team)

    if request.method == "POST":
        require(user, "targets.set", grid.team)
        form = TargetCellsForm(request.POST, grid=grid)
        if form.is_valid():
            try:
                changed = services.targets_save(
                    by=user, period=grid.period, start=grid.start, end=grid.end, cells=form.target_cells()
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Targets saved (%(count)s changed).") % {"count": changed})
                return redirect(request.get_full_path())
    else:
        form = TargetCellsForm(grid=grid, disabled=not may_edit)
    return render(request, "dashboards/targets.html", {"choice": choice, "grid": grid, "form": form, "may_edit": may_edit})


@login_required
def targets_export(request: HttpRequest) -> HttpResponseBase:
    """The targets grid the same GET parameters show, with actuals and attainment, as CSV or XLSX (`format=`)."""
    require(request.user, "records.export")
    choice, grid = _chosen_grid(request, timezone.now())
    if grid is None:
        return HttpResponseBadRequest(_form_errors(choice))
    try:
        return export_response(target_grid_table(grid), request.GET.get("format", "csv"))
    except UnknownFormat as exc:
        return HttpResponseBadRequest(str(exc))


def _chosen_grid(request: HttpRequest, now: dt.datetime) -> tuple[GridChoiceForm, TargetGrid | None]:
    """The grid the GET parameters choose among those the user may see (None when the choice is invalid)."""
    user: Any = request.user
    managed = list(services.teams_managed_by(user))
    teams = managed or list(Team.objects.filter(pk=user.team_id))
    metrics = sorted(Metric.objects.current(), key=lambda m: (not m.is_builtin, m.display_name.casefold()))
    company = services.may_set_targets(user, None)
    choice = GridChoiceForm(_grid_choice(request, teams, company, now), teams=teams, company=company, metrics=metrics)
    if not choice.is_valid():
        return choice, None
    chosen = [m for m in metrics if m.key in choice.cleaned_data["kpi"]]
    day = choice.cleaned_data["day"] or company_today(now)
    grid = target_grid(
        user=user, team=choice.chosen_team(), period=choice.cleaned_data["period"], day=day, metrics=chosen, now=now
    )
    return choice, grid


def _grid_choice(request: HttpRequest, teams: list[Team], company: bool, now: dt.datetime) -> dict[str, Any]:
    """The GET parameters, with defaults for what they leave out: the company for directors, else the user's team; this month."""
    user: Any = request.user
    data: dict[str, Any] = {key: request.GET[key] for key in ("team", "period", "day") if request.GET.get(key)}
    data["kpi"] = request.GET.getlist("kpi") or list(DEFAULT_KPIS)
    data.setdefault("period", TargetPeriod.MONTH.value)
    data.setdefault("day", company_today(now).isoformat())
    if "team" not in data:
        own = next((t for t in teams if t.pk == user.team_id), None)
        data["team"] = COMPANY if company else str(own.pk if own else teams[0].pk if teams else "")
    return data


# --------------------------------------------------------------------------- the KPI builder


@login_required
@require_http_methods(["GET", "POST"])
def builder(request: HttpRequest) -> HttpResponse:
    """Build a KPI, preview it with HTMX and save it (administrators and directors); add any KPI to a dashboard."""
    user: Any = request.user
    if request.method == "POST":
        require(user, "kpi.define")  # everyone previews; saving is refused before the form is read
    form = _compact(KpiBuilderForm(request.POST or None))
    if request.method == "POST" and form.is_valid():
        try:
            metric = form.save(by=request.user)
        except PermissionDenied as exc:
            return forbidden(request, exc)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The KPI %(name)s was saved.") % {"name": metric.display_name})
            return redirect("dashboards:kpi", key=metric.key)
    metrics = sorted(Metric.objects.current(), key=lambda m: (not m.is_builtin, m.display_name.casefold()))
    context = {
        "form": form,
        "may_define": user.has_perm("kpi.define"),
        "metrics": metrics,
        "boards": [(b, b.label) for b in boards_for(request.user)],
        "home": home_board(request.user),
    }
    return render(request, "dashboards/builder.html", context)


JSON_FIELDS = ("filters", "numerator_filters", "denominator_filters")


def _compact(form: KpiBuilderForm) -> KpiBuilderForm:
    """Smaller text areas, and empty filter lists rather than `null` in a new form."""
    for name in JSON_FIELDS:
        form.fields[name].widget.attrs["rows"] = 2
        form.fields[name].initial = []
    form.fields["description"].widget.attrs["rows"] = 3
    return form


@login_required
@require_POST
def builder_preview(request: HttpRequest) -> HttpResponse:
    """The builder's form as it stands, evaluated for the last 13 months as the user sees the records; nothing is saved.

    Administrators and directors only (as saving): anyone else gets a 403 before the definition is even read.
    """
    try:
        require(request.user, "kpi.define")
    except PermissionDenied as exc:
        return forbidden(request, exc)
    form = KpiBuilderForm(preview_data(request.POST))
    return render(
        request, "dashboards/_builder_preview.html", builder_preview_context(form, user=request.user, now=timezone.now())
    )
