"""Dimensions: names per source, errors with what there is, labels, bands, the blank group, grouping and filtering."""

import datetime as dt
import json
from decimal import Decimal

import pytest

from quota.crm.models import CustomField
from quota.kpi import dimensions
from quota.kpi.dimensions import NUMBER_EDGES, SIZE_EDGES, UnknownDimension, dimension, path_to
from quota.kpi.engine import GroupingNotSupported, evaluate
from quota.kpi.selectors import WhereError, kpi_values, segment_filters, where_items
from quota.kpi.sources import get_source
from quota.testing.clock import clock_at
from quota.testing.commands import run_command
from quota.testing.factories import CompanyFactory, DealFactory, LeadFactory, UserFactory

NOW = dt.datetime(2024, 3, 16, 12, tzinfo=dt.UTC)
START, END = dt.date(2024, 1, 1), dt.date(2024, 3, 31)


def won(day, amount, **fields):
    moment = dt.datetime(2024, 3, day, 10, tzinfo=dt.UTC)
    return DealFactory(amount=Decimal(amount), status="won", created_at=moment, closed_at=moment, **fields)


# --------------------------------------------------------------------------- paths and names


def test_the_company_and_contact_are_found_through_the_sources_links():
    assert path_to(get_source("deals").model, "crm.Company") == "company"
    assert path_to(get_source("stage_changes").model, "crm.Company") == "deal__company"
    assert path_to(get_source("offer_lines").model, "crm.Company") == "offer__company"
    assert path_to(get_source("campaign_events").model, "crm.Company") == "contact__company"
    assert path_to(get_source("leads").model, "crm.Contact") == "contact"
    assert path_to(get_source("campaigns").model, "crm.Company") is None
    assert path_to(get_source("deals").model, "crm.LeadSource") == "source"
    assert path_to(get_source("deals").model, "crm.Deal") == ""
    assert path_to(get_source("deals").model, "marketing.Campaign") == "lead__campaign"
    assert path_to(get_source("invoices").model, "crm.Deal") == "order__deal"


def test_the_own_custom_target_comes_from_the_model():
    assert dimensions.custom_target(get_source("deals").model) == "deal"
    assert dimensions.custom_target(get_source("leads").model) == "lead"
    assert dimensions.custom_target(get_source("orders").model) is None
    from quota.crm.models import Company, Contact

    assert dimensions.custom_target(Company) == "company" and dimensions.custom_target(Contact) == "contact"


@pytest.mark.django_db
def test_an_unknown_name_is_answered_with_close_names_and_all_there_are():
    CustomField.objects.create(
        target="deal", key="contract", label="Contract", field_type="choice", choices=["annual", "monthly"]
    )
    with pytest.raises(UnknownDimension) as refused:
        dimension(get_source("deals"), "custom.contrat")
    message = str(refused.value)
    assert "Deals have no custom.contrat" in message
    assert "Did you mean custom.contract" in message
    assert "company.size" in message and "business_type" in message and "direction" in message
    with pytest.raises(UnknownDimension, match="They can be grouped by"):
        dimension(get_source("orders"), "custom.contract")  # orders have no custom fields of their own
    with pytest.raises(UnknownDimension):
        dimension(get_source("campaigns"), "company.size")


# --------------------------------------------------------------------------- bands and labels


def test_size_bands_are_the_usual_ones_and_read_back_from_their_labels():
    labels = [dimensions._band_label(SIZE_EDGES, band, whole=True) for band in range(1, len(SIZE_EDGES) + 1)]
    assert labels == ["1–9", "10–49", "50–249", "250–999", "1,000 or more"]
    assert dimensions._band_of_label(SIZE_EDGES, "10-49", whole=True) == 2
    assert dimensions._band_of_label(SIZE_EDGES, "60", whole=True) == 3
    with pytest.raises(ValueError, match="no band"):
        dimensions._band_of_label(SIZE_EDGES, "huge", whole=True)


def test_number_bands_are_fixed_decades_with_one_band_below_zero():
    assert dimensions._band_label(NUMBER_EDGES, 0, whole=False) == "below 0"
    assert dimensions._band_label(NUMBER_EDGES, 3, whole=False) == "10 to under 100"
    assert dimensions._band_label(NUMBER_EDGES, len(NUMBER_EDGES), whole=False) == "1,000,000 or more"
    assert dimensions._band_of_label(NUMBER_EDGES, "-5", whole=False) == 0
    assert dimensions._band_of_label(NUMBER_EDGES, "0.5", whole=False) == 1
    assert dimensions._band_of_label(NUMBER_EDGES, "10 to under 100", whole=False) == 3


def test_values_are_coded_once_each():
    values = dimensions.Values()
    assert [values.code("b"), values.code("a"), values.code("b"), values.code(None)] == [0, 1, 0, None]
    assert values.values == ["b", "a"]


# --------------------------------------------------------------------------- grouping and filtering


@pytest.fixture
def deals_with_fields(db):
    CustomField.objects.create(
        target="deal", key="contract", label="Contract", field_type="choice", choices=["monthly", "annual"]
    )
    CustomField.objects.create(target="deal", key="seats", label="Seats", field_type="number")
    CustomField.objects.create(target="deal", key="renewal", label="Renewal", field_type="date")
    CustomField.objects.create(target="deal", key="pilot", label="Pilot", field_type="boolean")
    CustomField.objects.create(target="company", key="tier", label="Tier", field_type="text")
    small = CompanyFactory(industry="Retail", country="PL", employees=12, custom={"tier": "gold"})
    large = CompanyFactory(industry="", country="DE", employees=4000, custom={})
    won(2, "100", company=small, custom={"contract": "annual", "seats": 5, "renewal": "2025-01-31", "pilot": True})
    won(3, "200", company=small, custom={"contract": "monthly", "seats": 50, "pilot": False})
    won(4, "400", company=large, custom={"contract": "annual", "seats": 0.5})
    won(5, "800", company=large, custom={"contract": ""})
    won(6, "1600", company=None, custom={})


def grouped(by, where=None):
    with clock_at(NOW, tick=False):
        result = kpi_values("won_revenue", user=None, start=START, end=END, every="none", by=by, where=where)
    return {point.group.label: point.value for point in result.points}


def test_grouping_by_a_choice_keeps_the_choices_order_and_one_blank_group(deals_with_fields):
    with clock_at(NOW, tick=False):
        result = kpi_values("won_revenue", user=None, start=START, end=END, every="none", by="custom.contract")
    assert [(p.group.label, p.value) for p in result.points] == [("monthly", 200.0), ("annual", 500.0), ("(blank)", 2400.0)]


def test_grouping_by_numbers_dates_and_flags(deals_with_fields):
    assert grouped("custom.seats") == {"0 to under 1": 400.0, "1 to under 10": 100.0, "10 to under 100": 200.0, "(blank)": 2400.0}
    assert grouped("custom.renewal") == {"2025-01": 100.0, "(blank)": 3000.0}
    assert grouped("custom.pilot") == {"yes": 100.0, "no": 200.0, "(blank)": 2800.0}


def test_grouping_by_the_companys_attributes_and_custom_fields(deals_with_fields):
    assert grouped("company.size") == {"10–49": 300.0, "1,000 or more": 1200.0, "(blank)": 1600.0}
    assert grouped("company.industry") == {"Retail": 300.0, "(blank)": 2800.0}
    assert grouped("company.custom.tier") == {"gold": 300.0, "(blank)": 2800.0}
    assert grouped("business_type") == {"New customer": 3100.0}


def test_filtering_by_dimensions_all_of_them_at_once(deals_with_fields):
    with clock_at(NOW, tick=False):
        annual = kpi_values("won_revenue", user=None, start=START, end=END, every="none", where=["custom.contract=annual"])
        both = kpi_values(
            "won_revenue", user=None, start=START, end=END, every="none", where=["custom.contract=annual", "company.size=10-49"]
        )
        blank = kpi_values("won_revenue", user=None, start=START, end=END, every="none", where=["custom.contract="])
        other = kpi_values(
            "won_revenue",
            user=None,
            start=START,
            end=END,
            every="none",
            where=[json.loads('{"field": "custom.contract", "op": "ne", "value": "annual"}')],
        )
    assert annual.points[0].value == 500.0
    assert both.points[0].value == 100.0
    assert blank.points[0].value == 2400.0
    assert other.points[0].value == 2600.0  # monthly and the blank ones


def test_a_link_is_filtered_by_its_key_or_name_and_a_name_matching_nothing_says_so(deals_with_fields):
    assert segment_filters("deals", ["source=website"])[0]["op"] == "in"
    with pytest.raises(WhereError, match="No lead source is 'nowhere'"):
        segment_filters("deals", ["source=nowhere"])
    with pytest.raises(WhereError, match=r"Deals have no custom\.nope"):
        segment_filters("deals", ["custom.nope=1"])
    with pytest.raises(WhereError, match="dimension>=<value>"):
        segment_filters("deals", ["just text"])


def test_a_wrong_grouping_is_refused_with_the_reason(deals_with_fields):
    with pytest.raises(GroupingNotSupported, match=r"Did you mean custom\.contract"):
        grouped("custom.contrakt")


def test_where_texts_mix_dimension_filters_and_json():
    assert where_items(["a=b", '[{"field": "x", "op": "eq", "value": 1}]']) == ["a=b", {"field": "x", "op": "eq", "value": 1}]


@pytest.mark.django_db
def test_a_lead_is_grouped_by_its_sources_direction_with_blank_as_its_own_group():
    from quota.crm.models import LeadSource

    inbound = LeadSource.objects.create(key="form", name="Form", direction="inbound")
    neither = LeadSource.objects.create(key="fair", name="Fair", direction="")
    moment = dt.datetime(2024, 3, 5, tzinfo=dt.UTC)
    LeadFactory(source=inbound, created_at=moment)
    LeadFactory(source=inbound, created_at=moment)
    LeadFactory(source=neither, created_at=moment)
    with clock_at(NOW, tick=False):
        result = evaluate(["new_leads"], user=None, start=START, end=END, every="none", by="direction")
    assert [(p.group.label, p.value) for p in result["new_leads"].points] == [("Inbound", 2), ("(none)", 1)]


def test_the_command_line_groups_and_filters_by_a_custom_field(deals_with_fields):
    with clock_at(NOW, tick=False):
        text = run_command(
            "kpi", "eval", "won_revenue", "--from", "2024-01-01", "--to", "2024-03-31", "--every", "none",
            "--by", "custom.contract", "--where", "company.size=10-49",
        )  # fmt: skip
    assert "by custom.contract, where company.size=10-49" in text
    assert "annual" in text and "monthly" in text


def test_an_owner_outside_the_callers_walls_is_refused_as_one_who_does_not_exist(deals_with_fields):
    """Refused the same way by id or username as a person who does not exist: the refusal tells nothing of them."""
    from quota.accounts.models import Team

    north, south = Team.objects.create(name="North"), Team.objects.create(name="South")
    anna, olga = UserFactory(team=north), UserFactory(team=south)
    for named, nobody in ((str(olga.pk), "999999"), (olga.username, "nobody-at-all")):
        refusals = []
        for value in (named, nobody):
            with pytest.raises(WhereError) as refused:
                kpi_values("won_revenue", user=anna, start=START, end=END, where=[f"person={value}"])
            refusals.append(str(refused.value).replace(value, "<value>"))
        assert refusals[0] == refusals[1] and "No user is '<value>'" in refusals[0]
    assert kpi_values("won_revenue", user=None, start=START, end=END, where=[f"person={olga.username}"]).points


@pytest.mark.django_db
def test_a_company_or_contact_source_has_its_dimensions_without_more_code():
    from django.utils.translation import gettext_lazy

    from quota.kpi.sources import Source

    CustomField.objects.create(target="company", key="tier", label="Tier", field_type="text")
    CustomField.objects.create(target="contact", key="role", label="Role", field_type="text")
    companies = Source("companies", "crm.Company", gettext_lazy("companies"), date="created_at")
    contacts = Source("contacts", "crm.Contact", gettext_lazy("contacts"), date="created_at")
    assert dimension(companies, "custom.tier").reads == ("custom",)
    assert dimension(companies, "company.size").reads == ("employees",)
    assert dimension(contacts, "company.custom.tier").reads == ("company__custom",)
    assert dimension(contacts, "custom.role").reads == ("custom",)
    assert "contact.custom.role" not in dimensions.names(companies)
    assert dimensions.title("custom.tier", companies) == "Tier"
    assert dimensions.title("company.custom.tier") == "Company: Tier"


def test_a_saved_kpi_can_be_a_segment_a_card_and_its_records_list_keep(deals_with_fields):
    """A definition filters by a dimension as by a field: a KPI of annual contracts, for a dashboard card."""
    from quota.crm.models import Deal
    from quota.kpi import builder
    from quota.kpi.queries import records_condition

    definition = {
        "source": "deals",
        "date": "closed_at",
        "unit": "money",
        "better": "higher",
        "filters": [
            {"field": "status", "op": "eq", "value": "won"},
            {"field": "custom.contract", "op": "eq", "value": "annual"},
            {"field": "company.size", "op": "in", "value": ["10-49", "1,000 or more"]},
        ],
        "measure": {"kind": "sum", "field": "amount"},
        "groupings": ["person", "custom.seats"],
    }
    metric = builder.define(key="annual_revenue", name="Annual revenue", description="d", data=definition, by=None)
    with clock_at(NOW, tick=False):
        value = kpi_values("annual_revenue", user=None, start=START, end=END, every="none").points[0].value
        refused = metric.parsed.grouping_problem("company.size")
    assert value == 500.0
    assert refused == "It can only be grouped by person or custom.seats."
    listed = Deal.objects.filter(records_condition("deals", metric.parsed.filters, user=None))
    assert sorted(float(d.amount) for d in listed) == [100.0, 400.0]
    with pytest.raises(Exception, match=r"Deals have no custom\.nope"):
        builder.define(key="bad", name="Bad", description="d", data={**definition, "groupings": ["custom.nope"]}, by=None)
