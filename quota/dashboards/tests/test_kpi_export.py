"""Exports of the KPI page's tables and of the targets grid: the engine's numbers, for the page's period and grouping."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from quota.dashboards.tests.conftest import last_month_moment, lost_deal, month_start, this_month_moment, won_deal
from quota.kpi.engine import evaluate
from quota.kpi.models import Metric, Target, period_bounds
from quota.kpi.periods import add_months

pytestmark = pytest.mark.django_db

EXPORT = "/dashboards/kpi/{key}/export/"


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def xlsx_rows(response) -> list[tuple]:
    assert response.status_code == 200, response.content
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    return [tuple(cell for cell in row) for row in sheet.iter_rows()]


def name(key: str) -> str:
    return Metric.objects.current().get(key=key).display_name


def engine_by(user, key: str, by: str, start: dt.date, end: dt.date) -> dict[str, float | None]:
    result = evaluate([key], user=user, start=start, end=end, every="none", by=by, compare=False)[key]
    return {point.group.label: point.value for point in result.points if point.group is not None}


def test_breakdown_export_has_the_engines_values_per_group(client, world):
    won_deal(world.rep, "100.00", this_month_moment())
    won_deal(world.teammate, "250.50", this_month_moment())
    won_deal(world.south_rep, "300.00", this_month_moment())
    client.force_login(world.director)

    rows = csv_rows(client.get(EXPORT.format(key="won_revenue"), {"by": "person", "format": "csv"}))

    header, body = rows[0], rows[1:]
    assert header == ["Person", f"{name('won_revenue')} (EUR)", "Share"]
    start = month_start().date()
    expected = engine_by(world.director, "won_revenue", "person", start, dt.date.today())
    exported = {label: float(value) for label, value, _share in body}
    assert exported == pytest.approx({label: float(value) for label, value in expected.items() if value is not None})
    assert body[0][0] == str(world.south_rep)  # largest first, as the page shows
    shares = {label: float(share) for label, _value, share in body}
    # The shares the page shows: whole percents rounded together (largest remainder), adding up to 100 %.
    assert shares[str(world.south_rep)] == pytest.approx(0.46)  # 46.1 %
    assert sum(shares.values()) == pytest.approx(1.0)


def test_breakdown_export_keeps_the_pages_period_and_grouping(client, world):
    won_deal(world.rep, "100.00", this_month_moment())
    won_deal(world.south_rep, "700.00", last_month_moment())
    client.force_login(world.director)
    last_month = add_months(month_start().date(), -1)
    params = {
        "period": "custom",
        "start": last_month.isoformat(),
        "end": (month_start().date() - dt.timedelta(days=1)).isoformat(),
    }

    page = client.get("/dashboards/kpi/won_revenue/", {**params, "by": "team"}).context["breakdown"]
    rows = csv_rows(client.get(EXPORT.format(key="won_revenue"), {**params, "by": "team", "format": "csv"}))

    assert rows[0][0] == "Team"
    assert [(label, float(value)) for label, value, _share in rows[1:]] == [(row.label, row.value) for row in page.rows]
    assert [label for label, *_rest in rows[1:]] == ["South"]  # the rep's deal is this month, outside the period


def test_a_reps_breakdown_export_has_only_what_the_rep_sees(client, world):
    won_deal(world.rep, "100.00", this_month_moment())
    won_deal(world.south_rep, "300.00", this_month_moment())
    client.force_login(world.rep)
    rows = csv_rows(client.get(EXPORT.format(key="won_revenue"), {"by": "person", "format": "csv"}))
    labels = [row[0] for row in rows[1:]]
    assert str(world.rep) in labels
    assert str(world.south_rep) not in labels


def test_breakdown_xlsx_cells_are_numbers_with_money_and_percent_formats(client, world):
    won_deal(world.rep, "100.00", this_month_moment())
    won_deal(world.south_rep, "300.00", this_month_moment())
    client.force_login(world.director)
    rows = xlsx_rows(client.get(EXPORT.format(key="won_revenue"), {"by": "person", "format": "xlsx"}))
    assert [cell.value for cell in rows[0]] == ["Person", f"{name('won_revenue')} (EUR)", "Share"]
    label, value, share = rows[1]
    assert label.value == str(world.south_rep)
    assert (value.data_type, value.value, value.number_format) == ("n", 300, "#,##0.00")
    assert (share.value, share.number_format) == (pytest.approx(0.75), "0.0%")


def test_trend_export_has_the_13_months_of_the_engine(client, world):
    this_month = month_start()
    won_deal(world.rep, "1200.00", this_month.replace(year=this_month.year - 1) + dt.timedelta(days=3))
    won_deal(world.rep, "300.00", this_month + dt.timedelta(minutes=1))
    client.force_login(world.director)

    trend = client.get("/dashboards/kpi/won_revenue/").context["trend"]
    rows = xlsx_rows(client.get(EXPORT.format(key="won_revenue"), {"table": "trend", "format": "xlsx"}))

    assert [cell.value for cell in rows[0]] == ["Month", f"{name('won_revenue')} (EUR)", "A year earlier (EUR)"]
    assert len(rows) == 1 + 13
    assert [row[0].value.date() for row in rows[1:]] == trend.months
    assert all(row[0].is_date for row in rows[1:])
    assert [row[1].value or 0 for row in rows[1:]] == pytest.approx([float(v or 0) for v in trend.values["won_revenue"]])
    assert [row[2].value or 0 for row in rows[1:]] == pytest.approx([float(v or 0) for v in trend.last_year["won_revenue"]])
    assert rows[-1][1].value == pytest.approx(300.0) and rows[-1][2].value == pytest.approx(1200.0)


def test_rates_export_as_fractions(client, world):
    won_deal(world.rep, "100.00", this_month_moment())
    lost_deal(world.rep, this_month_moment())
    lost_deal(world.rep, this_month_moment())
    client.force_login(world.director)
    rows = csv_rows(client.get(EXPORT.format(key="win_rate"), {"by": "person", "format": "csv"}))
    values = {row[0]: float(row[1]) for row in rows[1:]}
    assert values[str(world.rep)] == pytest.approx(1 / 3)


def test_bad_requests_say_what_is_wrong(client, world):
    client.force_login(world.director)
    response = client.get(EXPORT.format(key="won_revenue"), {"table": "pie", "format": "csv"})
    assert response.status_code == 400 and "use breakdown or trend" in response.content.decode()
    response = client.get(EXPORT.format(key="won_revenue"), {"format": "ods"})
    assert response.status_code == 400 and "use csv or xlsx" in response.content.decode()
    assert client.get(EXPORT.format(key="no_such_kpi"), {"format": "csv"}).status_code == 404


def test_kpi_page_links_to_its_exports_with_its_period_and_grouping(client, world):
    won_deal(world.rep, "100.00", this_month_moment())
    client.force_login(world.director)
    content = client.get("/dashboards/kpi/won_revenue/", {"period": "last_month", "by": "team"}).content.decode()
    url = EXPORT.format(key="won_revenue")
    assert f'href="{url}?period=last_month&amp;scope=company&amp;table=trend&amp;format=xlsx"' in content
    # The breakdown's links are swapped with it, so they follow a change of grouping.
    won_deal(world.rep, "100.00", last_month_moment())
    content = client.get("/dashboards/kpi/won_revenue/", {"period": "last_month", "by": "team"}).content.decode()
    assert f'href="{url}?period=last_month&amp;by=team&amp;table=breakdown&amp;format=csv"' in content


# --------------------------------------------------------------------------- the targets grid


def test_targets_grid_export_has_targets_actuals_and_attainment(client, world):
    won_deal(world.rep, "2500.00", this_month_moment())
    start, end = period_bounds("month", month_start().date())
    won_revenue = Metric.objects.current().get(key="won_revenue")
    Target.objects.create(metric=won_revenue, user=world.rep, start=start, end=end, value=Decimal("5000"))
    client.force_login(world.director)
    params = {"team": world.north.pk, "period": "month", "day": start.isoformat(), "kpi": ["won_revenue", "win_rate"]}

    grid = client.get("/dashboards/targets/", params).context["grid"]
    rows = xlsx_rows(client.get("/dashboards/targets/export/", {**params, "format": "xlsx"}))

    header = [cell.value for cell in rows[0]]
    revenue, win_rate = name("won_revenue"), name("win_rate")
    assert header[0] == "Team / person"
    assert [column.metric.key for column in grid.columns] == ["win_rate", "won_revenue"]  # the page's order
    assert header[1:] == [
        f"{win_rate}: target",
        f"{win_rate}: actual",
        f"{win_rate}: attainment",
        f"{revenue}: target (EUR)",
        f"{revenue}: actual (EUR)",
        f"{revenue}: attainment",
    ]
    assert [row[0].value for row in rows[1:]] == [row.label for row in grid.rows]
    by_label = {row[0].value: row for row in rows[1:]}
    rep = by_label[str(world.rep)]
    assert rep[4].value == 5000 and rep[5].value == pytest.approx(2500.0)
    assert (rep[6].value, rep[6].number_format) == (pytest.approx(0.5), "0.0%")
    assert (rep[2].value, rep[2].number_format) == (1, "0.0%")  # one won deal, none lost: a 100 % win rate
    for cells in grid.cells:
        exported = by_label[cells[0].row.label]
        for index, cell in enumerate(cells):
            actual = exported[2 + 3 * index].value
            assert actual == (None if cell.actual is None else pytest.approx(float(cell.actual)))


def test_targets_export_refuses_a_grid_the_user_may_not_see(client, world):
    client.force_login(world.rep)
    response = client.get("/dashboards/targets/export/", {"team": world.south.pk, "format": "csv"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_targets_page_links_to_its_export(client, world):
    client.force_login(world.director)
    content = client.get("/dashboards/targets/", {"team": world.north.pk, "period": "quarter"}).content.decode()
    assert f'href="/dashboards/targets/export/?team={world.north.pk}&amp;period=quarter&amp;format=csv"' in content
