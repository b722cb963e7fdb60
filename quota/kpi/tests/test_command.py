"""`quota kpi list|eval|sync`: output formats and one-line reasons for bad arguments."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.management.base import CommandError

from quota.testing.commands import run_command
from quota.testing.factories import DealFactory, UserFactory, loss_reason

pytestmark = pytest.mark.django_db


def run(*args):
    return run_command("kpi", *args)


@pytest.fixture
def sales():
    anna = UserFactory(first_name="Anna", last_name="Nowak")
    for day, amount, rate in ((5, "1000", "1"), (20, "400", "0.25")):
        moment = dt.datetime(2024, 2, day, 12, tzinfo=dt.UTC)
        DealFactory(
            owner=anna, amount=Decimal(amount), exchange_rate=Decimal(rate), status="won", created_at=moment, closed_at=moment
        )
    return anna


def test_list_shows_key_name_unit_and_definition():
    text = run("list")
    assert "won_revenue" in text and "Won revenue (sales volume)" in text and "money (company currency)" in text
    rows = json.loads(run("list", "--format", "json"))
    win_rate = next(r for r in rows if r["key"] == "win_rate")
    assert win_rate["unit"] == "percent" and "Won deals divided by deals closed" in win_rate["definition"]


def test_eval_json_is_a_list_of_period_group_value(sales):
    first_quarter = ("--from", "2024-01-01", "--to", "2024-03-31", "--every", "month")
    rows = json.loads(run("eval", "won_revenue", *first_quarter, "--by", "person", "--format", "json"))
    assert [(r["period"], r["group"], r["value"]) for r in rows] == [
        ("2024-01-01", "Anna Nowak", 0.0),
        ("2024-02-01", "Anna Nowak", 1100.0),  # 1000 + 400 at 0.25 to the company currency
        ("2024-03-01", "Anna Nowak", 0.0),
    ]
    assert {"previous", "last_year", "computed_at"} <= set(rows[0])


def test_eval_json_rates_are_fractions_and_undefined_is_null(sales):
    rows = json.loads(run("eval", "win_rate", "--from", "2024-01-01", "--to", "2024-02-29", "--format", "json"))
    assert [(r["period"], r["group"], r["value"]) for r in rows] == [("2024-01-01", None, None), ("2024-02-01", None, 1.0)]
    whole = json.loads(
        run("eval", "won_deals", "--from", "2024-01-01", "--to", "2024-02-29", "--every", "none", "--format", "json")
    )
    assert [(r["period"], r["value"]) for r in whole] == [(None, 2)]


def test_eval_table_says_what_and_when(sales):
    text = run("eval", "won_revenue", "--from", "2024-02-01", "--to", "2024-02-29")
    assert "Won revenue (sales volume) (won_revenue v1)" in text and "€1,100" in text and "computed at" in text
    assert "2024-02-01 to 2024-02-29, every month, in total" in text


def test_eval_table_header_names_the_grouping(sales):
    text = run("eval", "won_revenue", "--from", "2024-02-01", "--to", "2024-02-29", "--every", "none", "--by", "person")
    assert text.splitlines()[0].endswith("2024-02-01 to 2024-02-29, one period, by person")
    assert "Anna Nowak" in text and "by none" not in text


def test_eval_table_says_so_when_there_is_nothing(sales):
    text = run("eval", "churn_rate", "--from", "2023-01-01", "--to", "2023-03-31", "--every", "none", "--by", "source")
    lines = text.splitlines()
    assert lines[0].endswith("one period, by source")
    assert lines[1] == "No values from 2023-01-01 to 2023-03-31 (no records to group by source)."
    assert "period" not in lines[1] and lines[2].startswith("computed at")


def test_eval_table_rounds_rates_instead_of_cutting_them(sales):
    anna = sales
    march = dt.datetime(2024, 3, 10, 12, tzinfo=dt.UTC)
    for status in ("won", "won", "lost"):
        reason = loss_reason() if status == "lost" else None
        DealFactory(owner=anna, amount=Decimal(10), status=status, created_at=march, closed_at=march, loss_reason=reason)
    text = run("eval", "win_rate", "--from", "2024-03-01", "--to", "2024-03-31", "--every", "none")
    assert "66.7%" in text  # 2 of 3: 66.666… rounds up, where cutting it said 66.6


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["eval", "won_revenu"], "There is no KPI 'won_revenu'; did you mean won_revenue"),
        (["eval", "won_revenue", "--from", "2024-02-30"], "--from takes a date as YYYY-MM-DD, not '2024-02-30'"),
        (["eval", "won_revenue", "--from", "2024-03-01", "--to", "2024-02-01"], "--from 2024-03-01 is after --to 2024-02-01"),
        # The ends of the calendar: periods around them would overflow (the year before 0001-01-01 is year 0).
        (["eval", "won_revenue", "--to", "0001-01-01"], "--to must be between 1900-01-01 and 2999-12-31, not 0001-01-01"),
        (["eval", "won_revenue", "--from", "9999-12-01", "--to", "9999-12-31", "--every", "year"], "--to must be between"),
        (["eval", "won_revenue", "--from", "0001-01-01", "--to", "2024-01-01"], "--from must be between"),
        (["eval", "won_revenue", "--every", "fortnight"], "--every must be one of day, week, month, quarter, year, none"),
        (["eval", "won_revenue", "--by", "region"], "Deals have no region to group or filter by."),
        (["eval", "nps", "--by", "stage"], "Survey answers have no stage"),
        (["eval", "won_revenue", "--format", "xml"], "--format must be table or json"),
        (["eval", "won_revenue", "--as", "nobody"], "There is no user 'nobody'"),
    ],
)
def test_bad_arguments_get_a_one_line_reason(args, reason):
    with pytest.raises(CommandError) as error:
        run(*args)
    assert reason in str(error.value) and "\n" not in str(error.value)


def test_sync_is_idempotent():
    assert run("sync").strip() == "created 0, new versions 0, renamed 0"


def test_rollup_builds_reports_and_drops(sales):
    assert "0/" in run("rollup", "--status")
    built = run("rollup")
    assert "deals.closed_at" in built and "built in" in built
    assert all(line.split()[1].split("/")[0] == line.split()[1].split("/")[1] for line in run("rollup", "--status").splitlines())
    assert "Dropped every rollup" in run("rollup", "--drop")


def test_eval_refuses_a_stored_definition_that_names_a_field_kpis_may_not_use(sales):
    """A definition saved before the allowlist (written past validation) is not evaluated either."""
    from quota.kpi.models import Metric

    leaky = {
        "source": "deals",
        "filters": [{"field": "owner__password", "op": "contains", "value": "$"}],
        "measure": {"kind": "count"},
        "unit": "count",
        "better": "higher",
    }
    Metric.objects.create(key="leaky", version=1, name="Leaky", description="d", definition=leaky, is_current=True)
    with pytest.raises(CommandError) as error:
        run("eval", "leaky", "--from", "2024-01-01", "--to", "2024-03-31")
    assert str(error.value).startswith("leaky cannot be computed: filters[0].field: 'owner__password' is not a field of user")


def test_the_quota_command_says_why_in_one_line_and_fails():
    import os
    import subprocess
    import sys

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "quota.settings.test", "DATABASE_URL": "sqlite://:memory:"}
    args = ["kpi", "eval", "won_revenue", "--from", "9999-12-01", "--to", "9999-12-31", "--every", "year"]
    result = subprocess.run([sys.executable, "-m", "quota.cli", *args], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 1 and result.stderr.strip().count("\n") == 0
    assert "--to must be between 1900-01-01 and 2999-12-31, not 9999-12-31" in result.stderr


# --------------------------------------------------------------------------- define

WON_COUNT = {"source": "deals", "date": "closed_at", "measure": {"kind": "count"}, "unit": "count", "better": "higher"}


def define(tmp_path, key, definition, *extra):
    path = tmp_path / "definition.json"
    path.write_text(definition if isinstance(definition, str) else json.dumps(definition))
    return run("define", key, "--name", "Deals won", "--definition", str(path), *extra)


def test_define_saves_a_custom_kpi_then_a_new_version(tmp_path, sales):
    from quota.kpi.models import Metric

    assert define(tmp_path, "deals_won", WON_COUNT).strip() == "saved deals_won v1: Deals won"
    assert define(tmp_path, "deals_won", {**WON_COUNT, "better": "lower"}).strip() == "saved deals_won v2: Deals won"
    metric = Metric.objects.get(key="deals_won", is_current=True)
    assert (metric.version, metric.description, metric.is_builtin) == (2, "Deals won", False)
    rows = json.loads(run("eval", "deals_won", "--from", "2024-02-01", "--to", "2024-02-29", "--format", "json"))
    assert [r["value"] for r in rows] == [2]


@pytest.mark.parametrize(
    ("key", "definition", "reasons"),
    [
        (
            "leaky",
            {**WON_COUNT, "filters": [{"field": "owner__password", "op": "eq", "value": "x"}]},
            ["definition: filters[0].field: 'owner__password' is not a field of user"],
        ),
        (
            "summed",
            {**WON_COUNT, "measure": {"kind": "sum", "field": "owner"}},
            ["definition: measure.field: Cannot sum 'owner'"],
        ),
        ("won_revenue", WON_COUNT, ["key: 'won_revenue' is a built-in KPI"]),
        ("Bad-Key", WON_COUNT, ["key: Use lower-case letters"]),
        ("broken", "{not json", ["cannot read the definition"]),
    ],
)
def test_define_refuses_bad_input_with_status_2_and_saves_nothing(tmp_path, key, definition, reasons):
    from quota.kpi.models import Metric

    before = Metric.objects.count()
    with pytest.raises(CommandError) as error:
        define(tmp_path, key, definition)
    assert error.value.returncode == 2
    for reason in reasons:
        assert reason in str(error.value)
    assert Metric.objects.count() == before


def test_eval_where_narrows_and_refuses_bad_filters(sales):
    where = json.dumps([{"field": "amount", "op": "gte", "value": 500}])
    rows = json.loads(
        run("eval", "won_deals", "--from", "2024-02-01", "--to", "2024-02-29", "--where", where, "--format", "json")
    )
    assert [r["value"] for r in rows] == [1]
    with pytest.raises(CommandError) as error:
        run("eval", "won_deals", "--where", "[{")
    assert "--where takes a JSON list of filters" in str(error.value)
    with pytest.raises(CommandError) as error:
        run("eval", "won_deals", "--where", json.dumps([{"field": "nope", "op": "eq", "value": 1}]))
    assert "where[0].field:" in str(error.value)
