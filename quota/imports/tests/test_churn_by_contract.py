"""Issue #14's subscription case, end to end through the command line only: a customers file with a contract type
and a churned flag is imported (the contract field created from the file), a builder-format KPI over companies is
defined with `quota kpi define`, and its churned share by contract equals a pandas count of the same file."""

import datetime as dt
import json
import random

import pandas as pd
import pytest
import time_machine

from quota.crm.models import CustomField
from quota.kpi.tests.test_customer_sources import CHURNED_SHARE  # what a builder user writes for it
from quota.testing.commands import run_command

pytestmark = pytest.mark.django_db

CONTRACTS = ["Month-to-month", "One year", "Two year"]
CHURN_ODDS = {"Month-to-month": 0.43, "One year": 0.11, "Two year": 0.03}  # the shape of the public telco data set


@pytest.fixture
def customers_csv(write_csv):
    chance = random.Random(7043)
    rows = []
    for number in range(400):
        contract = chance.choice(CONTRACTS)
        since = dt.date(2023, 1, 1) + dt.timedelta(days=chance.randrange(365))
        churned = chance.random() < CHURN_ODDS[contract]
        left = since + dt.timedelta(days=30 + chance.randrange(300)) if churned else None
        rows.append(
            [
                f"C{number:04d}",
                f"Customer {number}",
                contract,
                since.isoformat(),
                "Yes" if churned else "No",
                left.isoformat() if left else "",
            ]
        )
    header = ["customerID", "Name", "Contract", "Since", "Churn", "Left on"]
    return write_csv("customers.csv", [header, *rows]), pd.DataFrame(rows, columns=header)


@time_machine.travel(dt.datetime(2024, 6, 30, 12, tzinfo=dt.UTC), tick=False)
def test_the_churned_share_by_contract_equals_a_count_of_the_file(customers_csv, tmp_path):
    path, frame = customers_csv
    mapping = "customerID=external_id,Name=name,Contract=custom.contract,Since=customer_since,Churn=churned,Left on=churned_on"
    run_command("import", str(path), "--into", "companies", "--map", mapping, "--create-missing")
    contract = CustomField.objects.get(target="company", key="contract")
    assert (contract.field_type, sorted(contract.choices)) == ("choice", CONTRACTS)

    definition = tmp_path / "churned_share.json"
    definition.write_text(json.dumps(CHURNED_SHARE))
    run_command("kpi", "define", "churned_share", "--name", "Churned share of customers", "--definition", str(definition))
    # The companies are placed by the day they were imported (their created date): today.
    rows = json.loads(
        run_command(
            "kpi",
            "eval",
            "churned_share",
            "--from",
            "2024-06-01",
            "--to",
            "2024-06-30",
            "--every",
            "none",
            "--by",
            "custom.contract",
            "--format",
            "json",
        )
    )
    quota = {row["group"]: row["value"] for row in rows}

    expected = (frame["Churn"] == "Yes").groupby(frame["Contract"]).mean().to_dict()
    assert quota == pytest.approx(expected, abs=1e-12)
    assert set(quota) == set(CONTRACTS)
