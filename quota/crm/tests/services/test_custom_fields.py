import pytest
from django.core.exceptions import ValidationError

from quota.crm.custom_fields import clean_custom_values
from quota.crm.models import CustomField
from quota.crm.services import deal_update
from quota.testing.factories import DealFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fields():
    CustomField.objects.create(target="deal", key="seats", label="Seats", field_type="number", required=True)
    CustomField.objects.create(target="deal", key="renewal", label="Renewal date", field_type="date")
    CustomField.objects.create(target="deal", key="tier", label="Tier", field_type="choice", choices=["gold", "silver"])
    CustomField.objects.create(target="deal", key="note", label="Note", field_type="text")


def test_typed_values_are_normalised(fields):
    assert clean_custom_values(target="deal", values={"seats": "12", "renewal": "2027-01-31", "tier": "gold", "note": 5}) == {
        "seats": 12,
        "renewal": "2027-01-31",
        "tier": "gold",
        "note": "5",
    }


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "Seats is required"),
        ({"seats": "many"}, "not a valid Number"),
        ({"seats": 1, "renewal": "31/01/2027"}, "not a valid Date"),
        ({"seats": 1, "tier": "bronze"}, "not a valid Choice"),
        ({"seats": 1, "colour": "red"}, "no custom field 'colour'"),
    ],
)
def test_bad_values_are_rejected_with_a_reason(fields, values, message):
    with pytest.raises(ValidationError) as error:
        clean_custom_values(target="deal", values=values)
    assert message in str(error.value)


def test_a_deal_keeps_its_custom_values_when_an_update_is_rejected(fields):
    deal = DealFactory(custom={"seats": 3})
    with pytest.raises(ValidationError):
        deal_update(deal=deal, by=deal.owner, data={"custom": {"seats": "lots"}})
    deal.refresh_from_db()
    assert deal.custom == {"seats": 3}


def test_choice_field_definition_needs_choices():
    field = CustomField(target="lead", key="size", label="Size", field_type="choice", choices=[])
    with pytest.raises(ValidationError):
        field.full_clean()


def test_a_new_definition_applies_at_once_despite_the_cache():
    assert clean_custom_values(target="lead", values={}) == {}
    CustomField.objects.create(target="lead", key="budget", label="Budget", field_type="number", required=True)
    with pytest.raises(ValidationError, match="Budget is required"):
        clean_custom_values(target="lead", values={})
    CustomField.objects.filter(target="lead").delete()
    assert clean_custom_values(target="lead", values={}) == {}


# -- bounds: a value is one value, of bounded size, whoever sends it ------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"seats": 1, "note": ["a", "list"]}, "Note takes a single value"),
        ({"seats": {"nested": {"deeper": 1}}}, "Seats takes a single value"),
        ({"seats": 1, "note": "x" * 10_001}, "note: the value is longer than 10,000 characters"),
        ({"seats": 1, **{f"k{i}": 1 for i in range(201)}}, "at most 200 custom values"),
    ],
)
def test_nested_or_oversized_values_are_refused_with_a_reason(fields, values, message):
    with pytest.raises(ValidationError) as error:
        clean_custom_values(target="deal", values=values)
    assert message in str(error.value)


def test_a_nested_value_is_refused_and_nothing_is_written(fields):
    # (JSON text nested deeper is refused before it becomes values: by the API's parser and the form fields.)
    deal = DealFactory(custom={"seats": 3})
    deep: list = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(ValidationError, match="takes a single value"):
        deal_update(deal=deal, by=deal.owner, data={"custom": {"seats": 3, "note": deep}})
    deal.refresh_from_db()
    assert deal.custom == {"seats": 3}


def test_a_long_unknown_key_is_quoted_shortened(fields):
    with pytest.raises(ValidationError) as error:
        clean_custom_values(target="deal", values={"seats": 1, "k" * 5000: 1})
    assert "k" * 100 in str(error.value) and "k" * 101 not in str(error.value)
