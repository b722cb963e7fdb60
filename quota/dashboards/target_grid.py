"""The targets grid: a team and its members, or the company and its teams (rows), by the chosen KPIs (columns).

Each cell holds the target for the chosen month, quarter or year and, beside it, the actual so far
and the attainment. Actuals come from one engine call per kind of row (company, team, person)
whatever the size of the grid, and attainment from the same `kpi.targets.progress` the
dashboards use. Rates are typed as percentages (30 for 30 %); the grid converts them to the
fractions targets store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from quota.accounts.models import Team, User
from quota.core.forms import choice_field
from quota.core.inputs import validate_supported_day
from quota.dashboards.services import TargetCell, allows_negative
from quota.forecasting.ranges import RangeRow, forecast_ranges
from quota.forecasting.selectors import PIPELINE_FORECASTS
from quota.kpi.definitions import Unit
from quota.kpi.engine import SpanValues, evaluate_spans
from quota.kpi.formatting import as_text
from quota.kpi.models import Metric, Target, TargetPeriod, period_bounds
from quota.kpi.periods import Span, inclusive
from quota.kpi.targets import Progress, kpi_progress

DEFAULT_KPIS = ("won_revenue", "won_deals", "calls_made", "meetings_held")
PERIODS = [(p.value, p.label) for p in (TargetPeriod.MONTH, TargetPeriod.QUARTER, TargetPeriod.YEAR)]
COMPANY = "company"


class GridChoiceForm(forms.Form):
    """Which grid to show: the company or a team, the period and the KPIs (GET parameters, so it can be shared)."""

    team = forms.ChoiceField(label=gettext_lazy("Targets of"))
    period = forms.ChoiceField(label=gettext_lazy("Period"), choices=PERIODS, initial=TargetPeriod.MONTH)
    day = forms.DateField(
        label=gettext_lazy("Period containing"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        required=False,
        validators=[validate_supported_day],
    )
    # Checkboxes, not a list box: choosing several KPIs needs no ctrl-click.
    kpi = forms.MultipleChoiceField(label=gettext_lazy("KPIs"), choices=(), widget=forms.CheckboxSelectMultiple)

    def __init__(self, data: Any, *, teams: list[Team], company: bool, metrics: list[Metric]) -> None:
        super().__init__(data)
        self.teams = {str(team.pk): team for team in teams}
        choices = [(COMPANY, _("The company and its teams"))] if company else []
        choice_field(self, "team").choices = choices + [(pk, str(team)) for pk, team in self.teams.items()]
        choice_field(self, "kpi").choices = [(m.key, m.display_name) for m in metrics]

    def chosen_team(self) -> Team | None:
        """The team asked for; None for the company."""
        return self.teams.get(self.cleaned_data["team"])


@dataclass(frozen=True)
class Row:
    key: str  # part of the cells' field names: "company", "team-4", "person-7"
    label: str
    team: Team | None = None
    person: User | None = None

    @property
    def by(self) -> str:
        return "person" if self.person else "team" if self.team else "none"

    @property
    def group(self) -> int | None:
        return self.person.pk if self.person else self.team.pk if self.team else None

    @property
    def scope(self) -> tuple[int | None, int | None]:
        """(team id, person id) of this row's targets: a person's target has no team."""
        return (None, self.person.pk) if self.person else (self.team.pk if self.team else None, None)


@dataclass(frozen=True)
class Column:
    metric: Metric

    @property
    def scale(self) -> Decimal:
        """Typed value x scale = stored value: rates are typed in percent."""
        return Decimal("0.01") if self.metric.unit == Unit.PERCENT else Decimal(1)

    @property
    def heading(self) -> str:
        return f"{self.metric.display_name} (%)" if self.metric.unit == Unit.PERCENT else self.metric.display_name


@dataclass
class Cell:
    row: Row
    column: Column
    target: Target | None
    actual: float | int | None
    progress: Progress | None
    # For won revenue in a period under way: the forecast's ranges and chance of reaching the target (as on the
    # target's row of the dashboards: forecasting.targets).
    outlook: RangeRow | None = None
    field: Any = None  # the form's bound field, set by the form

    @property
    def reach(self) -> float | None:
        return self.outlook.reach if self.outlook else None

    @property
    def name(self) -> str:
        return f"cell-{self.row.key}-{self.column.metric.key}"

    @property
    def initial(self) -> Decimal | None:
        if self.target is None or self.target.value is None:
            return None
        return _plain(self.target.value / self.column.scale)

    @property
    def actual_text(self) -> str:
        return as_text(self.actual, self.column.metric.unit)


@dataclass
class TargetGrid:
    team: Team | None  # None: the company and its teams
    period: str
    start: dt.date
    end: dt.date
    rows: list[Row]
    columns: list[Column]
    cells: list[list[Cell]] = field(default_factory=list)
    computed_at: dt.datetime | None = None

    def all_cells(self) -> list[Cell]:
        return [cell for row in self.cells for cell in row]


def grid_rows(team: Team | None) -> list[Row]:
    """The company and every team with members, or a team and its active members."""
    if team is None:
        # The root of the team tree is the company itself: its people are the whole company's, so the company row
        # (named after it) shows its real totals, rather than a second row holding only the root's direct members.
        roots = list(Team.objects.filter(parent__isnull=True, children__isnull=False).distinct())
        root = roots[0] if len(roots) == 1 else None
        teams = Team.objects.filter(members__is_active=True).exclude(pk__in=[root.pk] if root else []).distinct().order_by("name")
        company = _("%(company)s (company)") % {"company": root} if root else _("Company")
        return [Row(COMPANY, company), *(Row(f"team-{t.pk}", str(t), team=t) for t in teams)]
    members = User.objects.filter(team=team, is_active=True).order_by("first_name", "last_name", "username")
    return [
        Row(f"team-{team.pk}", _("%(team)s (team)") % {"team": team}, team=team),
        *(Row(f"person-{p.pk}", str(p), person=p) for p in members),
    ]


def target_grid(
    *, user: Any, team: Team | None, period: str, day: dt.date, metrics: list[Metric], now: dt.datetime
) -> TargetGrid:
    start, end = period_bounds(period, day)
    rows = grid_rows(team)
    grid = TargetGrid(team, period, start, end, rows, [Column(m) for m in metrics])
    if not metrics:
        return grid
    span = inclusive(start, end)
    targets = _targets(metrics, rows, start, end)
    values = {
        by: _values(metrics, span, user=user, by=by, groups=[r.group for r in rows if r.by == by]) for by in {r.by for r in rows}
    }
    grid.computed_at = next((v.computed_at for v in values.values() if v), None)
    elapsed = span.elapsed_share(now)
    outlooks = _outlooks(grid, targets, values, user=user, elapsed=elapsed)
    for row in rows:
        cells = []
        for column in grid.columns:
            metric, found = column.metric, values[row.by]
            actual = found.value(metric, span, row.group) if found and not metric.parsed.grouping_problem(row.by) else None
            target = targets.get((metric.pk, *row.scope))
            state, outlook, expected = None, None, None
            if metric.key in PIPELINE_FORECASTS:  # won revenue's forecast adds what the pipeline is expected to bring
                outlook = outlooks[row.by].get(row.group)
                expected = outlook.expected - outlook.won if outlook else 0.0
            if target is not None and target.value is not None:
                state = kpi_progress(metric.parsed, actual=actual, target=target.value, elapsed=elapsed, expected=expected)
            cells.append(Cell(row, column, target, actual, state, outlook if state else None))
        grid.cells.append(cells)
    return grid


def _outlooks(
    grid: TargetGrid, targets: dict[tuple, Target], values: dict[str, SpanValues | None], *, user: Any, elapsed: float
) -> dict[str, dict[int | None, RangeRow]]:
    """Per kind of row, the forecast's ranges of each row with a won revenue target: what the pipeline is expected
    to bring (its status adds it) and the chance of reaching the target. Open periods only; one read per kind of row.
    """
    kinds = {row.by for row in grid.rows}
    forecast = [column.metric for column in grid.columns if column.metric.key in PIPELINE_FORECASTS]
    if elapsed >= 1 or not forecast:
        return {by: {} for by in kinds}
    span = inclusive(grid.start, grid.end)
    out: dict[str, dict[int | None, RangeRow]] = {}
    for by in kinds:
        won: dict[int | None, float] = {}
        aims: dict[int | None, float] = {}
        for row in (r for r in grid.rows if r.by == by):
            for metric in forecast:
                target = targets.get((metric.pk, *row.scope))
                if target is None or target.value is None:
                    continue
                found = values[by]
                won[row.group] = float((found.value(metric, span, row.group) if found else None) or 0)
                aims[row.group] = float(target.value)
        ranges = forecast_ranges(user=user, start=grid.start, end=grid.end, by=by, won=won, targets=aims) if aims else None
        out[by] = ranges.by_group() if ranges else {}
    return out


def _targets(metrics: list[Metric], rows: list[Row], start: dt.date, end: dt.date) -> dict[tuple, Target]:
    """The grid's existing targets for exactly this period, by (metric, team, person): one query."""
    scopes = Q(pk__in=[])
    if any(r.by == "none" for r in rows):
        scopes |= Q(user__isnull=True, team__isnull=True)
    scopes |= Q(user__isnull=True, team__in=[r.team for r in rows if r.by == "team"])
    scopes |= Q(user__in=[r.person for r in rows if r.person])
    found = Target.objects.filter(scopes, metric__in=metrics, start=start, end=end)
    return {(t.metric_id, t.team_id, t.user_id): t for t in found}


def _values(metrics: list[Metric], span: Span, *, user: Any, by: str, groups: list[int | None]) -> SpanValues | None:
    groupable = [m for m in metrics if not m.parsed.grouping_problem(by)]
    if not groupable or not groups:
        return None
    return evaluate_spans(groupable, [span], user=user, by=by, groups=groups)


def _plain(value: Decimal) -> Decimal:
    """Without trailing zeros, and never in exponent form (50000, not 5E+4), for a number input."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


class TargetCellsForm(forms.Form):
    """One number field per cell; an empty cell means no target. Errors show next to their cell."""

    def __init__(self, data: Any = None, *, grid: TargetGrid, disabled: bool = False) -> None:
        super().__init__(data)
        self.grid = grid
        for cell in grid.all_cells():
            self.fields[cell.name] = forms.DecimalField(
                label=f"{cell.row.label}: {cell.column.heading}",
                required=False,
                max_digits=18,
                decimal_places=4,
                initial=cell.initial,
                disabled=disabled,
                widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            )
        for cell in grid.all_cells():
            cell.field = self[cell.name]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for cell in self.grid.all_cells():
            value = data.get(cell.name)
            if value is not None and value < 0 and not allows_negative(cell.column.metric.unit):
                self.add_error(cell.name, _("A target cannot be negative."))
        return data

    def target_cells(self) -> list[TargetCell]:
        """The cells the POST sent, as the service takes them: stored units, None for a cell sent empty.

        A cell the POST leaves out is left as it is: a save with no fields (or a form showing
        other KPIs or people than the grid now has) must not clear targets nobody sent.
        """
        out = []
        for cell in self.grid.all_cells():
            if cell.name not in self.data:
                continue
            value = self.cleaned_data.get(cell.name)
            team_id, person_id = cell.row.scope
            stored = None if value is None else value * cell.column.scale
            out.append(TargetCell(cell.column.metric, stored, team_id=team_id, person_id=person_id))
        return out
