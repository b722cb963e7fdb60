"""The mapping format: the same data from TOML, JSON or the command line, and how a row is mapped."""

from __future__ import annotations

import pytest

from quota.imports.mapping import MappingError, StepMapping, apply, render_template
from quota.imports.presets import available, load
from quota.imports.values import ValueProblem, date, datetime, decimal, integer

pytestmark = pytest.mark.django_db


def test_command_line_options_build_the_same_mapping_as_the_data_format():
    from_cli = StepMapping.from_command_line(
        into="deals",
        columns=['Id=external_id,"Value, USD"=amount', "Stage=stage,Stage=status"],
        constants=["pipeline=Maven"],
        templates=["title={Product}[ for {Account}]"],
        defaults=["loss_reason=Not recorded (imported)"],
        values=["status:Won=won,Lost=lost"],
        fixes=["Product:GTXPro=GTX Pro"],
        match="external_id",
        currency="USD",
    )
    from_data = StepMapping.from_dict(
        {
            "into": "deals",
            "fields": {
                "external_id": "Id",
                "amount": "Value, USD",
                "stage": "Stage",
                "status": {"column": "Stage", "values": {"Won": "won", "Lost": "lost"}},
                "pipeline": {"value": "Maven"},
                "title": {"template": "{Product}[ for {Account}]"},
                "loss_reason": {"default": "Not recorded (imported)"},
            },
            "fixes": {"Product": {"GTXPro": "GTX Pro"}},
            "match": ["external_id"],
            "currency": "USD",
        }
    )
    assert from_cli.as_dict() == from_data.as_dict()
    assert StepMapping.from_dict(from_cli.as_dict()).as_dict() == from_cli.as_dict()
    assert from_cli.columns() == {"Id", "Value, USD", "Stage", "Product", "Account"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"into": "deals", "fields": {}}, "map at least one column"),
        ({"fields": {"title": "T"}}, "say which records"),
        ({"into": "deals", "fields": {"title": {"column": "A", "value": "x"}}}, "only one of"),
        ({"into": "deals", "fields": {"title": {"colour": "red"}}}, "unknown option"),
        ({"into": "deals", "fields": {"amount": {"column": "A", "multiply": "lots"}}}, "multiply must be a number"),
        ({"into": "deals", "fields": {"title": "T"}, "extra": 1}, "unknown mapping option"),
    ],
)
def test_a_malformed_mapping_says_what_to_change(data, message):
    with pytest.raises(MappingError) as error:
        StepMapping.from_dict(data)
    assert message in str(error.value)


def test_a_row_is_fixed_translated_templated_and_defaulted():
    mapping = StepMapping.from_dict(
        {
            "into": "deals",
            "fields": {
                "title": {"template": "{product}[ for {account}]"},
                "status": {"column": "stage", "values": {"Won": "won", "Engaging": "open"}},
                "created_at": {"column": "engaged", "default": "2017-12-31"},
            },
            "fixes": {"product": {"GTXPro": "GTX Pro"}},
        }
    )
    row = apply(mapping, {"product": "gtxpro", "account": "", "stage": "WON", "engaged": " "}, resolved_defaults={})
    assert row.values == {"title": "GTX Pro", "status": "won", "created_at": "2017-12-31"}
    assert row.fixed == [("product", "gtxpro", "GTX Pro")] and row.defaulted == {"created_at": "2017-12-31"}
    assert render_template("{a}[ / {b}][ ({c})]", {"a": "A", "b": "B", "c": None}.get) == "A / B"


def test_values_are_read_strictly_where_guessing_would_be_wrong():
    assert decimal("1,234.50") == decimal("$1 234.50") == decimal(1234.5)
    assert decimal("1.234,50", decimal_comma=True) == decimal("1234.50")
    assert integer("12.0") == 12
    assert date("2017-3-1").isoformat() == date("2017/03/01").isoformat() == "2017-03-01"
    assert date("01/03/2017", date_format="%d/%m/%Y").isoformat() == "2017-03-01"
    assert datetime("2017-03-01").hour == 0
    for bad, parser in [("03/04/2017", date), ("2017-02-30", date), ("NaN", decimal), ("1e3x", decimal), ("1.5", integer)]:
        with pytest.raises(ValueProblem):
            parser(bad)


def test_every_preset_loads():
    assert "maven-crm" in available()
    for name in available():
        preset = load(name)
        assert preset.steps and all(step.mapping.fields for step in preset.steps)
    maven = load("maven-crm")
    assert maven.files() == ["sales_teams.csv", "accounts.csv", "products.csv", "sales_pipeline.csv"]
    assert all(step.mapping.currency == "USD" for step in maven.steps)
