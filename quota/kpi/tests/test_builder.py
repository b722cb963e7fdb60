"""The builder: a KPI from a few choices, previewed, saved as a version; impossible ones refused with the reason."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from quota.accounts.models import Role
from quota.kpi import builder
from quota.kpi.definitions import DefinitionError
from quota.kpi.forms import KpiBuilderForm
from quota.kpi.models import Metric
from quota.testing.factories import DealFactory, UserFactory, loss_reason

pytestmark = pytest.mark.django_db

BIG_DEAL_WIN_RATE = {
    "source": "deals",
    "measure": "ratio",
    "ratio_of": "count",
    "numerator_filters": [{"field": "status", "op": "eq", "value": "won"}],
    "denominator": "count",
    "filters": [{"field": "status", "op": "in", "value": ["won", "lost"]}, {"field": "amount", "op": "gte", "value": 5000}],
    "date": "closed_at",
}


def at(day):
    return dt.datetime(2024, 5, day, 12, tzinfo=dt.UTC)


def test_a_few_choices_make_a_definition_with_a_guessed_unit():
    definition = builder.build(BIG_DEAL_WIN_RATE)
    assert definition.unit == "percent" and definition.source == "deals" and definition.date == "closed_at"
    assert builder.build({"source": "deals", "measure": "sum", "field": "amount"}).unit == "money"
    assert (
        builder.build({"source": "cases", "measure": "duration", "start": "created_at", "end": "resolved_at", "per": "hour"}).unit
        == "hours"
    )


@pytest.mark.parametrize(
    ("choices", "where", "says"),
    [
        ({"source": "deals", "measure": "sum", "field": "amout"}, "measure.field", "Did you mean amount?"),
        ({"source": "deals", "measure": "sum", "field": "status"}, "measure.field", "Cannot sum 'status': it is a text field."),
        ({"source": "deals", "measure": "ratio", "ratio_of": "count"}, "measure.denominator", "A ratio needs a denominator."),
        ({"source": "deals", "measure": "count", "date": "amount"}, "date", "'amount' is not a date"),
        (
            {"source": "deals", "measure": "count", "filters": [{"field": "x", "op": "eq", "value": 1}]},
            "filters[0].field",
            "'x' is not a field",
        ),
        ({"source": "deals", "measure": "median"}, "measure.kind", "Choose a measure"),
    ],
)
def test_what_cannot_be_computed_is_refused_with_the_reason(choices, where, says):
    with pytest.raises(DefinitionError) as error:
        builder.build(choices)
    assert says in {p.path: p.message for p in error.value.problems}[where]


def test_the_preview_computes_before_saving():
    rep = UserFactory()
    director = UserFactory(role=Role.DIRECTOR, team=None)
    for amount, status in (("9000", "won"), ("7000", "lost"), ("100", "won")):
        DealFactory(
            owner=rep,
            amount=Decimal(amount),
            status=status,
            created_at=at(1),
            closed_at=at(2),
            loss_reason=loss_reason() if status == "lost" else None,
        )
    window = {"start": dt.date(2024, 5, 1), "end": dt.date(2024, 5, 31)}
    result = builder.preview(builder.build(BIG_DEAL_WIN_RATE), user=director, **window)
    assert [p.value for p in result.points] == [0.5]
    assert not Metric.objects.filter(is_builtin=False).exists()
    with pytest.raises(PermissionDenied, match="Only administrators and directors define KPIs"):
        builder.preview(builder.build(BIG_DEAL_WIN_RATE), user=rep, **window)


def test_saving_again_makes_a_new_version_and_keeps_the_old():
    director = UserFactory(role=Role.DIRECTOR)
    first = builder.save(
        definition=builder.build(BIG_DEAL_WIN_RATE), key="big_win_rate", name="Big", description="d", by=director
    )
    changed = {
        **BIG_DEAL_WIN_RATE,
        "filters": [BIG_DEAL_WIN_RATE["filters"][0], {"field": "amount", "op": "gte", "value": 10000}],
    }
    second = builder.save(definition=builder.build(changed), key="big_win_rate", name="Big", description="d", by=director)
    first.refresh_from_db()
    assert (first.version, first.is_current, second.version, second.is_current) == (1, False, 2, True)
    assert second.created_by == director


def test_only_administrators_and_directors_define_kpis_and_not_under_built_in_keys():
    definition = builder.build(BIG_DEAL_WIN_RATE)
    with pytest.raises(PermissionDenied):
        builder.save(definition=definition, key="mine", name="Mine", description="d", by=UserFactory(role=Role.MANAGER))
    with pytest.raises(ValidationError, match="built-in"):
        builder.save(definition=definition, key="win_rate", name="Mine", description="d", by=UserFactory(role=Role.ADMIN))


def test_the_form_validates_previews_and_saves():
    form = KpiBuilderForm(
        data={
            **BIG_DEAL_WIN_RATE,
            "name": "Big deal win rate",
            "description": "Of deals from 5,000.",
            "better": "higher",
            "per": "day",
            "numerator_filters": '[{"field": "status", "op": "eq", "value": "won"}]',
            "filters": '[{"field": "status", "op": "in", "value": ["won", "lost"]}]',
        }
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["key"] == "big_deal_win_rate"
    assert form.preview(user=None, start=dt.date(2024, 5, 1), end=dt.date(2024, 5, 31)).points[0].value is None
    metric = form.save(by=UserFactory(role=Role.DIRECTOR))
    assert metric.key == "big_deal_win_rate" and metric.unit == "percent" and not metric.is_builtin


def test_the_form_puts_each_problem_on_its_field():
    form = KpiBuilderForm(
        data={
            "name": "Won",
            "key": "won_deals",
            "description": "x",
            "source": "deals",
            "measure": "sum",
            "field": "status",
            "date": "owner",
            "per": "day",
            "better": "higher",
            "filters": '[{"field": "stat", "op": "eq", "value": "won"}]',
        }
    )
    assert not form.is_valid()
    assert "built-in" in form.errors["key"][0]
    assert form.errors["field"] == ["Cannot sum 'status': it is a text field."]
    assert form.errors["date"][0].startswith("'owner' is not a date")
    assert "Did you mean status, stage?" in form.errors["filters"][0]


def test_a_definition_naming_a_field_kpis_may_not_use_is_not_saved():
    form = KpiBuilderForm(
        data={
            **BIG_DEAL_WIN_RATE,
            "name": "Hash probe",
            "description": "x",
            "better": "higher",
            "per": "day",
            "numerator_filters": '[{"field": "owner__password", "op": "contains", "value": "$1000000$"}]',
            "filters": "[]",
        }
    )
    assert not form.is_valid()
    assert form.errors["numerator_filters"] == [
        "'owner__password' is not a field of user that a KPI may use. It may use: id, role, team."
    ]
    assert form.definition is None and not Metric.objects.filter(key="hash_probe").exists()


def test_a_metric_written_directly_is_checked_against_the_same_fields():
    """The admin saves through `Metric.full_clean`, which runs the same parser."""
    metric = Metric(
        key="probe",
        version=1,
        name="Probe",
        description="d",
        definition={**builder.definition_data({"source": "deals", "measure": "distinct", "field": "owner__email"})},
    )
    with pytest.raises(ValidationError) as error:
        metric.full_clean(validate_unique=False, validate_constraints=False)
    assert "'owner__email' is not a field of user that a KPI may use" in str(error.value)
