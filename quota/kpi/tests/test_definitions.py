"""The definition format: every built-in parses; a definition that cannot be computed says why."""

import pytest

from quota.kpi.catalogue import CATALOGUE
from quota.kpi.definitions import DefinitionError, parse

WON_REVENUE = {
    "source": "deals",
    "date": "closed_at",
    "filters": [{"field": "status", "op": "eq", "value": "won"}],
    "measure": {"kind": "sum", "field": "amount"},
    "unit": "money",
    "better": "higher",
}


def problems(data):
    with pytest.raises(DefinitionError) as error:
        parse(data)
    return {p.path: p.message for p in error.value.problems}


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda e: e.key)
def test_every_builtin_definition_parses_and_is_stable(entry):
    definition = parse(entry.definition)
    assert parse(definition.data).canonical() == definition.canonical()


def test_an_unknown_field_is_named_with_close_matches():
    found = problems({**WON_REVENUE, "measure": {"kind": "sum", "field": "amout"}})
    assert "'amout' is not a field of deals that a KPI may use. Did you mean amount?" in found["measure.field"]


def test_a_text_field_cannot_be_summed():
    found = problems({**WON_REVENUE, "measure": {"kind": "sum", "field": "business_type"}})
    assert found["measure.field"] == "Cannot sum 'business_type': it is a text field."


def test_a_link_cannot_be_averaged_and_the_message_says_what_to_do():
    found = problems({**WON_REVENUE, "measure": {"kind": "avg", "field": "company"}})
    assert "count it or count its distinct values instead" in found["measure.field"]


def test_a_ratio_needs_a_denominator():
    found = problems({**WON_REVENUE, "measure": {"kind": "ratio", "numerator": {"kind": "count"}}})
    assert found["measure.denominator"] == "A ratio needs a denominator."


def test_the_date_must_be_a_date_and_the_message_lists_the_dates():
    found = problems({**WON_REVENUE, "date": "status"})
    assert found["date"].startswith("'status' is not a date; use one of")
    assert "closed_at" in found["date"]


def test_filters_are_checked_against_the_field():
    found = problems(
        {
            **WON_REVENUE,
            "filters": [
                {"field": "status", "op": "eq", "value": "wonn"},
                {"field": "amount", "op": "like", "value": 3},
                {"field": "amount", "op": "gt", "value": "a lot"},
                {"field": "business_type", "op": "gt", "value": "new"},
            ],
        }
    )
    assert "'wonn' is not a value of status; use one of open, won, lost" in found["filters[0].value"]
    assert found["filters[1].op"].startswith("'like' is not allowed")
    assert found["filters[2].value"] == "'a lot' is not a number."
    assert found["filters[3].value"] == "'business_type' cannot be compared with gt."


def test_every_problem_is_reported_at_once():
    found = problems({"source": "deals", "date": "title", "measure": {"kind": "sum", "field": "nope"}, "unit": "lots"})
    assert {"date", "measure.field", "unit", "better"} <= set(found)


def test_an_unknown_source_suggests_the_right_one():
    assert "did you mean deals?" in problems({**WON_REVENUE, "source": "deal"})["source"]


def test_links_are_followed_only_to_one_record():
    found = problems({**WON_REVENUE, "measure": {"kind": "sum", "field": "offers__amount"}})
    assert found["measure.field"].startswith("'offers__amount' is not a field of deals that a KPI may use.")


def test_a_snapshot_has_no_date_and_age_needs_a_snapshot():
    snapshot = {"source": "deals", "snapshot": {"from": "created_at", "until": "closed_at"}, "unit": "days", "better": "lower"}
    assert "has no date field" in problems({**snapshot, "date": "created_at", "measure": {"kind": "count"}})["date"]
    assert "needs a snapshot" in problems({**WON_REVENUE, "measure": {"kind": "age", "field": "created_at"}})["measure"]


def test_exists_must_link_to_the_same_kind_of_record():
    found = problems(
        {
            **WON_REVENUE,
            "filters": [
                {"field": "company", "op": "exists", "value": {"source": "activities", "link": "owner", "when": "earlier"}}
            ],
        }
    )
    assert "does not point where 'company' does" in found["filters[0].value.link"]


def test_a_records_own_id_links_to_records_that_point_back_at_it():
    won_back = {"source": "deals", "link": "won_back_from", "date": "closed_at", "when": "later"}
    assert parse({**WON_REVENUE, "filters": [{"field": "id", "op": "exists", "value": won_back}]})
    pointing_elsewhere = {**won_back, "link": "company"}
    found = problems({**WON_REVENUE, "filters": [{"field": "id", "op": "exists", "value": pointing_elsewhere}]})
    assert "does not point where 'id' does" in found["filters[0].value.link"]
    found = problems({**WON_REVENUE, "filters": [{"field": "amount", "op": "exists", "value": won_back}]})
    assert "exists follows a link" in found["filters[0].value"]


def test_unknown_keys_are_typos_not_ignored():
    assert "Unknown key" in problems({**WON_REVENUE, "mesure": {}})["mesure"]


@pytest.mark.django_db  # the dimensions offered include the custom fields defined
def test_grouping_problems_say_why_and_what_else_works():
    nps = parse(next(e.definition for e in CATALOGUE if e.key == "nps"))
    assert nps.grouping_problem("stage") == (
        "Survey answers have no stage to group or filter by. "
        "They can be grouped by person, team, company.industry, company.country, company.size."
    )
    assert nps.grouping_problem("person") is None
    cac = parse(next(e.definition for e in CATALOGUE if e.key == "cac"))
    assert cac.grouping_problem("person") == "It can only be grouped by source."


def test_a_company_wide_kpi_says_it_cannot_be_grouped():
    rate = parse(next(e.definition for e in CATALOGUE if e.key == "customer_activity_rate"))
    assert rate.grouping_problem("team") == "It is a company-wide figure and cannot be grouped."


# --------------------------------------------------------------------------- fields a definition may name

SECRET_PATHS = [
    "owner__password",
    "owner__email",
    "owner__is_superuser",
    "owner__is_staff",
    "owner__last_login",
    "owner__auth_token__key",
    "created_by__password",
    "company__owner__password",
    "contact__owner__email",
    "stage__pipeline__deals__owner__password",
]


def _exists(filters, link="company"):
    return {"source": "deals", "link": link, "date": "created_at", "when": "earlier", "filters": filters}


def _everywhere(path):
    """`path` in every place a definition names a field, each with where the problem is reported."""
    yield "filters[0].field", {**WON_REVENUE, "filters": [{"field": path, "op": "contains", "value": "$1000000$wlzz"}]}
    yield "filters[0].value.field", {**WON_REVENUE, "filters": [{"field": "status", "op": "eq", "value": {"field": path}}]}
    nested = [{"field": path, "op": "eq", "value": "x"}]
    yield (
        "filters[0].value.filters[0].field",
        {**WON_REVENUE, "filters": [{"field": "company", "op": "exists", "value": _exists(nested)}]},
    )
    yield "filters[0].value.link", {**WON_REVENUE, "filters": [{"field": "company", "op": "exists", "value": _exists([], path)}]}
    yield "attribution", {**WON_REVENUE, "attribution": path}
    yield "date", {**WON_REVENUE, "date": path}
    yield "measure.field", {**WON_REVENUE, "measure": {"kind": "distinct", "field": path}}
    yield "measure.field", {**WON_REVENUE, "measure": {"kind": "sum", "field": path}}
    yield "measure.entity", {**WON_REVENUE, "measure": {"kind": "top_share", "field": "amount", "entity": path, "share": 0.2}}
    yield (
        "measure.numerator.filters[0].field",
        {
            **WON_REVENUE,
            "measure": {"kind": "ratio", "numerator": {"kind": "count", "filters": nested}, "denominator": {"kind": "count"}},
        },
    )
    snapshot = {k: v for k, v in WON_REVENUE.items() if k != "date"}
    yield "snapshot.until", {**snapshot, "snapshot": {"from": "created_at", "until": path}, "measure": {"kind": "count"}}


@pytest.mark.parametrize("path", SECRET_PATHS)
def test_a_user_internal_is_refused_wherever_a_definition_names_a_field(path):
    for where, data in _everywhere(path):
        found = problems(data)
        assert where in found, (where, found)
        assert found[where].startswith(f"'{path}' is not a field of "), found[where]
        assert "that a KPI may use." in found[where] and "It may use: " in found[where]


def test_a_refusal_does_not_depend_on_the_value_looked_for():
    def refusal(value):
        return problems({**WON_REVENUE, "filters": [{"field": "owner__password", "op": "contains", "value": value}]})

    assert refusal("$1000000$wlzz") == refusal("pbkdf2_sha256$") == refusal("no such text")


def test_a_users_person_fields_are_allowed():
    assert parse({**WON_REVENUE, "filters": [{"field": "owner__role", "op": "eq", "value": "rep"}]})
    assert parse({**WON_REVENUE, "filters": [{"field": "owner__team__parent", "op": "isnull", "value": False}]})
