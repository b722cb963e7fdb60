"""A customer file fills the lifecycle: customer since, a churned flag, a churn date and reason; won deals start it."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from quota.crm.models import Company
from quota.imports.engine import ImportOptions
from quota.imports.mapping import StepMapping
from quota.imports.services import import_file
from quota.imports.tests.helpers import DEAL_COLUMNS, DEAL_MAPPING, groups

pytestmark = pytest.mark.django_db

CUSTOMERS = StepMapping.from_dict(
    {
        "into": "companies",
        "fields": {
            "external_id": "Customer",
            "name": "Customer",
            "customer_since": "Since",
            "churned": "Churn",
            "churned_on": "Left on",
            "churn_reason": "Why",
        },
    }
)
HEADER = ["Customer", "Since", "Churn", "Left on", "Why"]


def run(path, **options):
    return import_file(path, mapping=CUSTOMERS, options=ImportOptions(**options))


def lifecycles():
    return {
        c.external_id: (c.lifecycle, c.customer_since, c.churned_on, c.churn_reason.key if c.churn_reason else None)
        for c in Company.objects.exclude(external_id="")
    }


def test_a_churned_flag_a_churn_date_and_a_reason_map_to_the_lifecycle(write_csv):
    rows = [
        ["C1", "2023-01-15", "No", "", ""],
        ["C2", "2022-06-01", "Yes", "2024-02-29", "Contract ended"],
        ["C3", "2022-06-01", "yes", "2024-03-01", "price"],  # a built-in reason by its key
        ["C4", "", "", "", ""],
    ]
    report = run(write_csv("customers.csv", [HEADER, *rows]))
    assert report.ok, report.reason
    assert lifecycles() == {
        "C1": ("customer", dt.date(2023, 1, 15), None, None),
        "C2": ("churned", dt.date(2022, 6, 1), dt.date(2024, 2, 29), "contract_ended"),
        "C3": ("churned", dt.date(2022, 6, 1), dt.date(2024, 3, 1), "price"),
        "C4": ("prospect", None, None, None),
    }


def test_churned_with_no_dates_is_recorded_on_the_import_day_and_said(write_csv):
    with time_machine.travel(dt.datetime(2024, 5, 20, 10, tzinfo=dt.UTC), tick=False):
        report = run(write_csv("customers.csv", [HEADER, ["C1", "", "Yes", "", ""]]))
    assert report.ok, report.reason
    assert lifecycles() == {"C1": ("churned", dt.date(2024, 5, 20), dt.date(2024, 5, 20), None)}
    (said,) = groups(report, "default_used", column="Churn")
    assert (said.count, said.rows) == (2, 1)  # both dates, each said


def test_a_churn_date_on_a_customer_not_churned_is_refused(write_csv):
    report = run(write_csv("customers.csv", [HEADER, ["C1", "2023-01-01", "No", "2024-01-01", ""]]))
    assert not report.ok
    (refused,) = groups(report, "invalid_value", column="Churn")
    assert "not churned" in refused.examples[0].message
    assert not Company.objects.filter(external_id="C1").exists()


def test_a_churn_before_the_customer_since_date_is_refused_with_the_models_reason(write_csv):
    report = run(write_csv("customers.csv", [HEADER, ["C1", "2024-02-01", "Yes", "2024-01-01", ""]]))
    assert not report.ok
    assert not Company.objects.filter(external_id="C1").exists()


def test_updating_a_churned_customer_as_not_churned_reactivates_it(write_csv):
    run(write_csv("customers.csv", [HEADER, ["C1", "2022-01-01", "Yes", "2023-01-01", "Price"]]))
    report = run(write_csv("again.csv", [HEADER, ["C1", "2022-01-01", "No", "", ""]]), on_duplicate="update")
    assert report.ok, report.reason
    assert lifecycles() == {"C1": ("customer", dt.date(2022, 1, 1), None, None)}


def test_won_deals_imported_make_their_companies_customers_from_the_first(write_csv, ann_at_acme):
    rows = [
        ["D1", "Later", "rep1", "Acme", "Proposal", "won", "2024-01-02", "2024-03-05", "100", ""],
        ["D2", "First", "rep1", "Acme", "Proposal", "won", "2024-01-02", "2024-02-10", "100", ""],
        ["D3", "Lost", "rep1", "Acme", "Proposal", "lost", "2024-01-02", "2024-01-20", "100", "Price too high"],
    ]
    report = import_file(write_csv("deals.csv", [DEAL_COLUMNS, *rows]), mapping=DEAL_MAPPING, options=ImportOptions())
    assert report.ok, report.reason
    acme = Company.objects.get(name="Acme")
    assert (acme.customer_since, acme.lifecycle) == (dt.date(2024, 2, 10), "customer")
