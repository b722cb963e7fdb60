"""The generic command-line form (a file and a mapping, no preset) produces what the preset produces."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from quota.core.models import ExchangeRate
from quota.crm.models import Company, Deal, DealStageChange
from quota.imports.engine import ImportOptions
from quota.imports.models import SavedMapping
from quota.imports.presets import load
from quota.imports.services import import_preset
from quota.imports.tests.helpers import MAVEN_DIR, groups, rows_with
from quota.sales.models import Product

pytestmark = pytest.mark.django_db

# One row of every kind: won (with the GTXPro misspelling), lost, engaging with no account,
# prospecting with no dates at all, and a won deal that closes the same day it was engaged.
SAMPLE_IDS = ["Z063OYW0", "KWVA7VR1", "HAXMC4IX", "6CWZFOHJ", "1C1I7A6R", "LIB4KUZJ", "EC4QE1BX"]

GENERIC_DEALS = [
    "--into",
    "deals",
    "--map",
    "opportunity_id=external_id,sales_agent=owner,account=company,deal_stage=stage,deal_stage=status,"
    "engage_date=created_at,close_date=closed_at,close_value=amount,product=custom.product",
    "--set",
    "pipeline=Maven",
    "--template",
    "title={product}[ for {account}]",
    "--values",
    "stage:Won=Engaging,Lost=Engaging",
    "--values",
    "status:Prospecting=open,Engaging=open,Won=won,Lost=lost",
    "--default",
    "created_at=@latest:engage_date+close_date,loss_reason=Not recorded (imported)",
    "--fix",
    "product:GTXPro=GTX Pro",
    "--match",
    "external_id",
    "--currency",
    "USD",
]


@pytest.fixture
def sample_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "maven"
    folder.mkdir()
    for name in ("accounts.csv", "products.csv", "sales_teams.csv"):
        shutil.copy(MAVEN_DIR / name, folder / name)
    with (
        (MAVEN_DIR / "sales_pipeline.csv").open(newline="") as source,
        (folder / "sales_pipeline.csv").open("w", newline="") as out,
    ):
        reader = csv.reader(source)
        writer = csv.writer(out)
        writer.writerow(next(reader))
        writer.writerows(row for row in reader if row[0] in SAMPLE_IDS)
    return folder


def snapshot() -> dict[str, tuple]:
    deals = {}
    for deal in Deal.objects.select_related("owner", "company", "pipeline", "stage", "loss_reason"):
        history = tuple(
            deal.stage_changes.order_by("changed_at", "id").values_list(
                "from_stage__name", "to_stage__name", "from_status", "to_status", "changed_at"
            )
        )
        deals[deal.external_id] = (
            deal.title,
            deal.owner.get_full_name(),
            deal.company.name if deal.company else None,
            deal.pipeline.name,
            deal.stage.name,
            deal.status,
            deal.amount,
            deal.currency,
            deal.exchange_rate,
            deal.created_at,
            deal.closed_at,
            deal.stage_changed_at,
            deal.loss_reason.name if deal.loss_reason else None,
            deal.custom,
            history,
        )
    return deals


@override_settings(QUOTA_CURRENCY="USD")
def test_generic_mapping_gives_the_same_deals_as_the_preset(sample_dir, capsys):
    preset_report = import_preset("maven-crm", sample_dir, options=ImportOptions())
    assert preset_report.ok, preset_report.reason
    by_preset = snapshot()
    assert sorted(by_preset) == sorted(SAMPLE_IDS)

    DealStageChange.objects.all().delete()
    Deal.objects.all().delete()
    call_command("import", str(sample_dir / "sales_pipeline.csv"), *GENERIC_DEALS)
    assert "committed" in capsys.readouterr().out
    assert snapshot() == by_preset


@override_settings(QUOTA_CURRENCY="USD")
def test_command_line_json_report_dry_run_and_exit_codes(sample_dir, capsys):
    call_command("import", str(sample_dir), "--preset", "maven-crm", "--dry-run", "--format", "json")
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "checked" and report["ok"] and report["totals"]["created"] > 0
    assert not Deal.objects.exists() and not Company.objects.exists()

    with pytest.raises(CommandError) as failure:
        call_command("import", str(sample_dir / "sales_pipeline.csv"), "--into", "deals", "--map", "nope=external_id")
    assert failure.value.returncode == 1
    assert "column 'nope' is not in the file" in str(failure.value) and "\n" not in str(failure.value)

    with pytest.raises(CommandError) as usage:
        call_command("import", str(sample_dir), "--preset", "no-such-preset")
    assert usage.value.returncode == 2 and "maven-crm" in str(usage.value)


@override_settings(QUOTA_CURRENCY="USD")
def test_a_mapping_can_be_saved_and_used_again(sample_dir, capsys):
    products = sample_dir / "products.csv"
    call_command(
        "import",
        str(products),
        "--into",
        "products",
        "--map",
        "product=name,series=series,sales_price=price",
        "--save-mapping",
        "maven products",
    )
    assert SavedMapping.objects.get(name="maven products").mapping["fields"]["price"] == "sales_price"
    Product.objects.all().delete()
    call_command("import", str(products), "--mapping", "maven products")
    assert Product.objects.count() == 7
    assert "7 records were created" in capsys.readouterr().out


def test_unusable_amounts_in_another_currency_are_refused_with_a_hint(sample_dir):
    with override_settings(QUOTA_CURRENCY="EUR"):
        report = import_preset("maven-crm", sample_dir, options=ImportOptions())
    assert not report.ok
    assert "no USD exchange rate" in report.reason and "QUOTA_CURRENCY=USD" in report.reason
    assert "`quota rates add USD <rate> --date YYYY-MM-DD`" in report.reason
    assert not Deal.objects.exists() and not Company.objects.filter(name="Isdom").exists()


def test_amounts_in_another_currency_keep_the_rate_of_their_day(sample_dir):
    ExchangeRate.objects.create(currency="USD", valid_from=dt.date(2016, 1, 1), rate=Decimal("0.9"))
    with override_settings(QUOTA_CURRENCY="EUR"):
        report = import_preset("maven-crm", sample_dir, options=ImportOptions())
    assert report.ok, report.reason
    deal = Deal.objects.get(external_id="Z063OYW0")
    assert (deal.currency, deal.exchange_rate, deal.amount) == ("USD", Decimal("0.9"), Decimal("4514"))
    assert Product.objects.get(name="GTX Pro").currency == "USD"
    # a company's revenue has no currency of its own: it is converted (3,178.24 million USD at 0.9)
    assert Company.objects.get(name="Isdom").annual_revenue == Decimal("2860416000.00")
    assert rows_with(report, "converted_currency", step="accounts") == 85


@override_settings(QUOTA_CURRENCY="USD")
def test_without_the_presets_fix_the_misspelt_product_is_refused_with_a_suggestion(sample_dir):
    preset = load("maven-crm")
    preset.steps[-1].mapping.fixes = {}
    report = import_preset(preset, sample_dir, options=ImportOptions())
    assert not report.ok and not Deal.objects.exists()
    (missing,) = groups(report, "not_found", step="deals")
    assert missing.column == "product" and missing.rows == 2  # Z063OYW0 and KWVA7VR1
    assert "there is no product 'GTXPro'; did you mean 'GTX Pro'?" in missing.examples[0].message


def test_the_quota_command_fails_with_one_line_and_exit_code_1(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "quota.settings.test"}
    command = [sys.executable, "-m", "quota.cli", "import", "--preset", "maven-crm", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "files are missing" in result.stderr
    assert "accounts.csv is missing" in result.stdout


def test_fields_are_listed_for_a_target(capsys):
    call_command("import", "--into", "deals", "--fields")
    out = capsys.readouterr().out
    assert "external_id" in out and "stage" in out and "title" in out and "(required)" in out
