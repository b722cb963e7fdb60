"""Companies and contacts as KPI sources: counted, filtered by lifecycle, within each reader's walls."""

import datetime as dt

import pytest

from quota.crm.models import ChurnReason
from quota.kpi.definitions import DefinitionError, parse
from quota.kpi.engine import evaluate
from quota.kpi.sources import get_source
from quota.testing.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

ALL_TIME = {"start": dt.date(2000, 1, 1), "end": dt.date(2030, 12, 31), "every": "none", "compare": False}
# What a builder user writes for "the churned share of customers": a ratio over companies, by lifecycle.
CHURNED_SHARE = {
    "source": "companies",
    "filters": [{"field": "customer_since", "op": "isnull", "value": False}],
    "measure": {
        "kind": "ratio",
        "numerator": {"kind": "count", "filters": [{"field": "lifecycle", "op": "eq", "value": "churned"}]},
        "denominator": {"kind": "count"},
    },
    "unit": "percent",
    "better": "lower",
}


@pytest.fixture
def customers(people):
    reason = ChurnReason.objects.get(key="price")
    since, left = dt.date(2024, 1, 1), dt.date(2024, 5, 1)
    CompanyFactory(owner=people["rep"], customer_since=since, churned_on=left, churn_reason=reason)
    CompanyFactory(owner=people["rep"], customer_since=since)
    CompanyFactory(owner=people["rep"])  # a prospect
    CompanyFactory(owner=people["south_rep"], customer_since=since, churned_on=left, churn_reason=reason)
    CompanyFactory(owner=people["south_rep"], customer_since=since, churned_on=left, churn_reason=reason)
    return people


def value(definition, user, **window):
    return evaluate([parse(definition)], user=user, **(window or ALL_TIME))["preview"].points[0].value


def test_a_builder_kpi_counts_the_churned_share_within_the_walls(customers):
    assert value(CHURNED_SHARE, None) == pytest.approx(3 / 4)
    assert value(CHURNED_SHARE, customers["rep"]) == pytest.approx(1 / 2)  # South's customers are not North's to count
    assert value(CHURNED_SHARE, customers["south_rep"]) == 1.0


def test_the_lifecycle_kpis_see_only_the_readers_customers(customers):
    may = {"start": dt.date(2024, 5, 1), "end": dt.date(2024, 5, 31), "every": "month"}
    for user, active, churned in ((None, 1, 3), (customers["rep"], 1, 1), (customers["south_rep"], 0, 2)):
        result = evaluate(["active_customers", "churned_customers"], user=user, **may)
        assert [result[key].points[0].value for key in ("active_customers", "churned_customers")] == [active, churned]


def test_contacts_are_counted_by_creation_date(people):
    ContactFactory(owner=people["rep"], created_at=dt.datetime(2024, 3, 5, 12, tzinfo=dt.UTC))
    ContactFactory(owner=people["south_rep"], created_at=dt.datetime(2024, 3, 6, 12, tzinfo=dt.UTC))
    contacts = {"source": "contacts", "measure": {"kind": "count"}, "unit": "count", "better": "higher"}
    march = {"start": dt.date(2024, 3, 1), "end": dt.date(2024, 3, 31), "every": "none", "compare": False}
    assert value(contacts, None, **march) == 2
    assert value(contacts, people["rep"], **march) == 1


@pytest.mark.parametrize(
    ("source", "field"), [("companies", "name"), ("companies", "phone"), ("contacts", "email"), ("contacts", "last_name")]
)
def test_names_and_ways_to_reach_someone_stay_out_of_reach(source, field):
    with pytest.raises(DefinitionError, match="may use"):
        parse(
            {
                "source": source,
                "filters": [{"field": field, "op": "contains", "value": "a"}],
                "measure": {"kind": "count"},
                "unit": "count",
                "better": "higher",
            }
        )
    assert field not in [f.path for f in get_source(source).fields()]


def test_a_lifecycle_filter_takes_only_its_stages():
    with pytest.raises(DefinitionError, match="prospect, customer, churned"):
        parse({**CHURNED_SHARE, "filters": [{"field": "lifecycle", "op": "eq", "value": "lost"}]})
