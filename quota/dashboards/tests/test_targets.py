"""The targets grid: who may set which targets, how cells are validated and saved, and the attainment beside them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from scipy import stats

from quota.crm.models import Deal
from quota.dashboards.tests.conftest import month_start, open_deal, this_month_moment, won_deal
from quota.forecasting.probability import win_probability
from quota.forecasting.targets import target_progress
from quota.kpi.models import Metric, Target, period_bounds
from quota.testing.audit import recorded

pytestmark = pytest.mark.django_db

GRID = "/dashboards/targets/?team={team}&period=month&day={day}&kpi=won_revenue&kpi=win_rate"


def grid_url(team) -> str:
    return GRID.format(team=team if isinstance(team, str) else team.pk, day=month_start().date().isoformat())


def cells(response) -> dict[str, str]:
    """Every cell of the grid with its current value, as the browser would post it back."""
    form = response.context["form"]
    return {name: "" if field.initial is None else str(field.initial) for name, field in form.fields.items()}


def test_a_director_sets_a_teams_and_its_members_targets_in_one_grid(client, world):
    won_deal(world.rep, "2500.00", this_month_moment())
    client.force_login(world.director)
    url = grid_url(world.north)
    data = cells(client.get(url))
    data |= {
        f"cell-team-{world.north.pk}-won_revenue": "10000",
        f"cell-person-{world.rep.pk}-won_revenue": "5000",
        f"cell-person-{world.rep.pk}-win_rate": "40",  # typed in percent
    }
    response = client.post(url, data, follow=True)
    assert "Targets saved (3 changed)." in response.content.decode()
    start, end = period_bounds("month", month_start().date())
    team_target = Target.objects.get(team=world.north, metric__key="won_revenue")
    assert (team_target.start, team_target.end, team_target.value) == (start, end, Decimal("10000"))
    assert Target.objects.get(user=world.rep, metric__key="win_rate").value == Decimal("0.4")
    # The page shows the attainment beside each target.
    rep_cell = next(c for c in response.context["grid"].all_cells() if c.name == f"cell-person-{world.rep.pk}-won_revenue")
    assert rep_cell.actual == pytest.approx(2500.0) and rep_cell.progress.attainment == pytest.approx(0.5)
    assert rep_cell.field.initial == Decimal("5000")

    data[f"cell-person-{world.rep.pk}-won_revenue"] = ""  # an emptied cell removes its target
    data[f"cell-person-{world.rep.pk}-win_rate"] = "40"
    data[f"cell-team-{world.north.pk}-won_revenue"] = "10000"
    client.post(url, data)
    assert not Target.objects.filter(user=world.rep, metric__key="won_revenue").exists()


def test_a_negative_target_is_refused_next_to_its_cell_and_nothing_is_saved(client, world):
    client.force_login(world.director)
    url = grid_url(world.north)
    typed = {f"cell-person-{world.rep.pk}-won_revenue": "-5", f"cell-team-{world.north.pk}-won_revenue": "100"}
    data = cells(client.get(url)) | typed
    response = client.post(url, data)
    assert response.status_code == 200
    cell = next(c for c in response.context["grid"].all_cells() if c.name == f"cell-person-{world.rep.pk}-won_revenue")
    assert cell.field.errors == ["A target cannot be negative."]
    content = response.content.decode()
    assert content.index("A target cannot be negative.") > content.index(f'name="cell-person-{world.rep.pk}-won_revenue"')
    assert not Target.objects.exists()


def test_a_manager_sets_their_own_teams_targets_but_not_anothers(client, world):
    client.force_login(world.manager)
    url = grid_url(world.north)
    data = cells(client.get(url)) | {f"cell-person-{world.teammate.pk}-won_revenue": "700"}
    client.post(url, data)
    assert Target.objects.get(user=world.teammate).value == Decimal("700")
    other = grid_url(world.south)
    assert client.post(other, {f"cell-person-{world.south_rep.pk}-won_revenue": "1"}).status_code == 403
    assert client.post(grid_url("company"), {"cell-company-won_revenue": "1"}).status_code == 403
    assert not Target.objects.filter(user=world.south_rep).exists()


def test_a_rep_may_not_set_team_targets(client, world):
    client.force_login(world.rep)
    url = grid_url(world.north)
    page = client.get(url)
    assert page.status_code == 200 and not page.context["may_edit"]  # they see their team's targets, read only
    assert 'name="cell-team' in page.content.decode() and "disabled" in page.content.decode()
    typed = {f"cell-team-{world.north.pk}-won_revenue": "100", f"cell-person-{world.rep.pk}-won_revenue": "100"}
    response = client.post(url, typed)
    assert response.status_code == 403
    assert not Target.objects.exists()


def test_a_director_sets_company_and_team_targets(client, world):
    client.force_login(world.director)
    url = grid_url("company")
    response = client.get(url)
    labels = [row.label for row in response.context["grid"].rows]
    assert labels[0] == "Company (company)" and "North" in labels and "South" in labels
    client.post(url, cells(response) | {"cell-company-won_revenue": "50000", f"cell-team-{world.south.pk}-won_revenue": "20000"})
    assert Target.objects.get(user=None, team=None).value == Decimal("50000")
    assert Target.objects.get(team=world.south).value == Decimal("20000")
    assert client.get("/").context["cards"][0].target == 50000  # the director's cards compare with the company's target


def test_the_company_row_is_the_root_teams_totals_and_the_root_is_not_a_row_of_its_own(client, world):
    """The root team's direct members are only the director: a row of theirs would read 0 beside the real totals."""
    won_deal(world.rep, "2500.00", this_month_moment())
    won_deal(world.south_rep, "1000.00", this_month_moment())
    client.force_login(world.director)
    grid = client.get(grid_url("company")).context["grid"]
    assert [row.label for row in grid.rows] == ["Company (company)", "North", "South"]
    won_revenue = {cell.row.label: cell.actual for cell in grid.all_cells() if cell.column.metric.key == "won_revenue"}
    assert won_revenue == {"Company (company)": 3500, "North": 2500, "South": 1000}


# --------------------------------------------------------------------------- only the cells sent, each change audited

APRIL = dt.datetime(2026, 4, 15, 12, 0, tzinfo=dt.UTC)
APRIL_GRID = "/dashboards/targets/?team={team}&period=month&day=2026-04-01&kpi=won_revenue&kpi=win_rate"


@pytest.fixture
def set_grid(client, world, time_machine):
    """The North grid of April 2026 with a target in each of its six cells (team, manager, rep, teammate...)."""
    time_machine.move_to(APRIL, tick=False)
    client.force_login(world.director)
    url = APRIL_GRID.format(team=world.north.pk)
    data = dict.fromkeys(cells(client.get(url)), "10")
    client.post(url, data)
    assert Target.objects.count() == len(data) > 4
    return url, data


def test_a_save_with_no_cells_deletes_nothing(client, world, set_grid):
    url, _ = set_grid
    before = set(Target.objects.values_list("pk", "value"))
    response = client.post(url, {}, follow=True)
    assert "Targets saved (0 changed)." in response.content.decode()
    assert set(Target.objects.values_list("pk", "value")) == before


def test_only_the_cells_sent_are_created_changed_or_deleted(client, world, set_grid):
    url, data = set_grid
    rep_revenue, rep_rate = f"cell-person-{world.rep.pk}-won_revenue", f"cell-person-{world.rep.pk}-win_rate"
    others = set(Target.objects.exclude(user=world.rep).values_list("pk", "value"))
    response = client.post(url, {rep_revenue: "2500", rep_rate: ""}, follow=True)
    assert "Targets saved (2 changed)." in response.content.decode()
    assert Target.objects.get(user=world.rep, metric__key="won_revenue").value == Decimal("2500")
    assert not Target.objects.filter(user=world.rep, metric__key="win_rate").exists()  # sent empty: cleared
    assert set(Target.objects.exclude(user=world.rep).values_list("pk", "value")) == others
    assert Target.objects.count() == len(data) - 1


def test_each_target_created_changed_or_deleted_in_the_grid_is_audited(client, world, set_grid):
    from auditlog.models import LogEntry

    url, _ = set_grid
    rep_revenue, rep_rate = f"cell-person-{world.rep.pk}-won_revenue", f"cell-person-{world.rep.pk}-win_rate"
    revenue = Target.objects.get(user=world.rep, metric__key="won_revenue")
    rate = Target.objects.get(user=world.rep, metric__key="win_rate")
    assert ("create", "value", None, "10.000000", "director") in recorded(revenue)
    client.force_login(world.manager)
    client.post(url, {rep_revenue: "2500", rep_rate: ""})
    assert recorded(revenue)[0] == ("update", "value", "10.000000", "2500.000000", "manager")
    deleted = LogEntry.objects.get(content_type__model="target", object_id=rate.pk, action=LogEntry.Action.DELETE)
    assert deleted.actor == world.manager and deleted.changes["value"] == ["0.100000", None]  # 10 %
    assert deleted.changes["user"] == [world.rep.pk, None]


# -- days at the ends of the calendar: a 400 that says which days work, never an overflow ------------------


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "3000-01-01", "1899-12-31"])
@pytest.mark.parametrize("period", ["month", "quarter", "year"])
def test_a_day_out_of_range_is_a_400_with_the_reason(client, world, day, period):
    client.force_login(world.director)
    params = {"team": world.north.pk, "period": period, "day": day}
    page = client.get("/dashboards/targets/", params)
    assert page.status_code == 400 and "Choose a date between" in page.content.decode()
    export = client.get("/dashboards/targets/export/", {**params, "format": "csv"})
    assert export.status_code == 400 and "Choose a date between" in export.content.decode()
    before = Target.objects.count()
    url = f"/dashboards/targets/?team={world.north.pk}&period={period}&day={day}"
    posted = client.post(url, {"cell-company-won_revenue": "1"})
    assert posted.status_code == 400 and Target.objects.count() == before


@pytest.mark.parametrize("day", ["2999-12-31", "1900-01-01"])
def test_the_first_and_last_days_quota_computes_with_work(client, world, day):
    client.force_login(world.director)
    page = client.get("/dashboards/targets/", {"team": world.north.pk, "period": "year", "day": day})
    assert page.status_code == 200 and page.context["grid"].start.year == int(day[:4])


def test_a_won_revenue_cell_says_the_chance_of_reaching_it_as_the_target_row_does(client, world):
    """The grid reads the one forecast: the same ranges, so the same chance, as the target's row on a dashboard."""
    start, end = period_bounds("month", month_start().date())
    won_deal(world.rep, "1000.00", this_month_moment())
    deals = [open_deal(world.rep, "500.00", stage_position=2, expected=end) for _ in range(20)]
    target = Target.objects.create(
        user=world.rep, metric=Metric.objects.current().get(key="won_revenue"), start=start, end=end, value=Decimal("6000")
    )
    client.force_login(world.director)
    response = client.get(grid_url(world.north))
    cell = next(c for c in response.context["grid"].all_cells() if c.name == f"cell-person-{world.rep.pk}-won_revenue")
    # Each deal is won with its stage's probability (no slip without a history): at least 10 of the 20 are needed.
    chance = Deal.objects.filter(pk=deals[0].pk).annotate(p=win_probability()).get().p
    assert cell.reach == pytest.approx(stats.binom(20, chance).sf(9), abs=0.02)
    (row,) = target_progress([target], user=world.director)
    assert cell.reach == row.reach and cell.progress.forecast == row.progress.forecast
    assert f'data-reach="{cell.reach:.4f}"' in response.content.decode()
    # The team's cell has no target, so no chance.
    team_cell = next(c for c in response.context["grid"].all_cells() if c.name == f"cell-team-{world.north.pk}-won_revenue")
    assert team_cell.reach is None
