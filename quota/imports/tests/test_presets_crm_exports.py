"""The Pipedrive, HubSpot and Salesforce presets, on small files with those products' export headers."""

from __future__ import annotations

import csv
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from quota.accounts.models import Role
from quota.crm.models import Company, Contact, Deal, Lead
from quota.imports.engine import ImportOptions
from quota.imports.models import ImportJob
from quota.imports.services import import_preset
from quota.testing.factories import UserFactory

pytestmark = pytest.mark.django_db

PIPEDRIVE = {
    "organizations.csv": [
        [
            "Organization - ID",
            "Organization - Name",
            "Organization - Owner",
            "Organization - People",
            "Organization - Open deals",
            "Organization - Website",
            "Organization - Industry",
            "Organization - Number of employees",
            "Organization - Organization created",
        ],
        ["11", "Acme Ltd", "Olivia Owner", "1", "1", "https://www.acme.example/", "Manufacturing", "120", "2024-01-05 09:30:00"],
        ["12", "Globex", "Olivia Owner", "1", "0", "globex.example", "", "", "2024-01-06 10:00:00"],
    ],
    "people.csv": [
        [
            "Person - ID",
            "Person - Name",
            "Person - Organization",
            "Person - Email",
            "Person - Phone",
            "Person - Job title",
            "Person - Owner",
            "Person - Person created",
        ],
        ["21", "Ada Lovelace", "Acme Ltd", "ada@acme.example", "+48 22 123 45 67", "CTO", "Olivia Owner", "2024-01-07 08:00:00"],
        ["22", "Hank Scorpio", "Globex", "hank@globex.example", "", "CEO", "Olivia Owner", "2024-01-08 08:00:00"],
    ],
    "deals.csv": [
        [
            "Deal - ID",
            "Deal - Title",
            "Deal - Creator",
            "Deal - Owner",
            "Deal - Value",
            "Deal - Currency",
            "Deal - Organization",
            "Deal - Contact person",
            "Deal - Pipeline",
            "Deal - Stage",
            "Deal - Status",
            "Deal - Deal created",
            "Deal - Expected close date",
            "Deal - Won time",
            "Deal - Lost time",
            "Deal - Lost reason",
        ],
        [
            "31",
            "Acme robots",
            "Olivia Owner",
            "Olivia Owner",
            "12000",
            "EUR",
            "Acme Ltd",
            "Ada Lovelace",
            "Pipeline",
            "Proposal Made",
            "Open",
            "2024-02-01 10:00:00",
            "2024-03-31",
            "",
            "",
            "",
        ],
        [
            "32",
            "Acme spare parts",
            "Olivia Owner",
            "Olivia Owner",
            "3500.50",
            "EUR",
            "Acme Ltd",
            "",
            "Pipeline",
            "Negotiations Started",
            "Won",
            "2024-02-02 10:00:00",
            "",
            "2024-02-20 15:45:00",
            "",
            "",
        ],
        [
            "33",
            "Globex pilot",
            "Olivia Owner",
            "Olivia Owner",
            "800",
            "EUR",
            "Globex",
            "Hank Scorpio",
            "Pipeline",
            "Contact Made",
            "Lost",
            "2024-02-03 10:00:00",
            "",
            "",
            "2024-02-10 09:00:00",
            "Went with a competitor",
        ],
    ],
}

HUBSPOT = {
    "companies.csv": [
        [
            "Record ID",
            "Company name",
            "Company owner",
            "Create Date",
            "Phone Number",
            "Last Activity Date",
            "City",
            "Country/Region",
            "Industry",
            "Company Domain Name",
            "Number of Employees",
        ],
        [
            "9001",
            "Initech",
            "Olivia Owner",
            "2024-01-10 12:00",
            "",
            "",
            "Austin",
            "United States",
            "COMPUTER_SOFTWARE",
            "initech.example",
            "300",
        ],
    ],
    "contacts.csv": [
        [
            "Record ID",
            "First Name",
            "Last Name",
            "Email",
            "Phone Number",
            "Contact owner",
            "Job Title",
            "Associated Company",
            "Create Date",
            "Lifecycle Stage",
        ],
        [
            "501",
            "Peter",
            "Gibbons",
            "peter@initech.example",
            "",
            "Olivia Owner",
            "Engineer",
            "Initech",
            "2024-01-11 09:00",
            "customer",
        ],
    ],
    "deals.csv": [
        [
            "Record ID",
            "Deal Name",
            "Deal Stage",
            "Close Date",
            "Deal owner",
            "Amount",
            "Create Date",
            "Pipeline",
            "Associated Company",
            "Closed Lost Reason",
        ],
        [
            "701",
            "Initech TPS",
            "Closed Won",
            "2024-03-01 00:00",
            "Olivia Owner",
            "5000",
            "2024-02-01 10:00",
            "Sales Pipeline",
            "Initech",
            "",
        ],
        [
            "702",
            "Initech printers",
            "closedlost",
            "2024-03-05",
            "Olivia Owner",
            "900",
            "2024-02-02 10:00",
            "Sales Pipeline",
            "Initech",
            "Budget cut",
        ],
        [
            "703",
            "Initech support",
            "Presentation Scheduled",
            "2099-06-30",
            "Olivia Owner",
            "1500",
            "2024-02-03 10:00",
            "Sales Pipeline",
            "Initech",
            "",
        ],
    ],
}

SALESFORCE = {
    "accounts.csv": [
        [
            "Account ID",
            "Account Name",
            "Account Owner",
            "Type",
            "Industry",
            "Billing City",
            "Billing Country",
            "Website",
            "Employees",
            "Created Date",
        ],
        [
            "0015g00000AbCdE",
            "Umbrella Corp",
            "Olivia Owner",
            "Customer - Direct",
            "Biotechnology",
            "Raccoon City",
            "United States",
            "www.umbrella.example",
            "5000",
            "1/15/2024",
        ],
    ],
    "contacts.csv": [
        ["Contact ID", "First Name", "Last Name", "Title", "Account Name", "Email", "Phone", "Contact Owner", "Created Date"],
        [
            "0035g00000XyZ12",
            "Albert",
            "Wesker",
            "Director",
            "Umbrella Corp",
            "wesker@umbrella.example",
            "+1 202-555-0143",
            "Olivia Owner",
            "1/16/2024",
        ],
    ],
    "leads.csv": [
        [
            "Lead ID",
            "First Name",
            "Last Name",
            "Title",
            "Company / Account",
            "Email",
            "Lead Source",
            "Lead Status",
            "Lead Owner",
            "Created Date",
        ],
        [
            "00Q5g00000Lm111",
            "Jill",
            "Valentine",
            "Officer",
            "S.T.A.R.S.",
            "jill@stars.example",
            "Web",
            "Open - Not Contacted",
            "Olivia Owner",
            "2/1/2024",
        ],
        [
            "00Q5g00000Lm222",
            "Chris",
            "Redfield",
            "",
            "S.T.A.R.S.",
            "chris@stars.example",
            "",
            "Closed - Not Converted",
            "Olivia Owner",
            "2/2/2024",
        ],
    ],
    "opportunities.csv": [
        [
            "Opportunity ID",
            "Opportunity Name",
            "Account Name",
            "Amount",
            "Stage",
            "Close Date",
            "Created Date",
            "Opportunity Owner",
            "Lead Source",
            "Won",
            "Closed",
            "Probability (%)",
        ],
        [
            "0065g00000Op001",
            "Umbrella vaccines",
            "Umbrella Corp",
            "250,000.00",
            "Closed Won",
            "3/31/2024",
            "1/20/2024",
            "Olivia Owner",
            "Partner Referral",
            "1",
            "1",
            "100%",
        ],
        [
            "0065g00000Op002",
            "Umbrella labs",
            "Umbrella Corp",
            "40,000.00",
            "Closed Lost",
            "4/2/2024",
            "1/21/2024",
            "Olivia Owner",
            "Web",
            "0",
            "1",
            "0%",
        ],
        [
            "0065g00000Op003",
            "Umbrella security",
            "Umbrella Corp",
            "75,000.00",
            "Value Proposition",
            "12/31/2099",
            "1/22/2024",
            "Olivia Owner",
            "",
            "0",
            "0",
            "50%",
        ],
    ],
}


def write_files(folder: Path, files: dict[str, list[list[str]]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in files.items():
        with (folder / name).open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(rows)
    return folder


@pytest.fixture
def owner():
    return UserFactory(first_name="Olivia", last_name="Owner", role=Role.REP)


def aware(*args: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime(*args))


def deals() -> dict[str, tuple]:
    return {
        d.external_id: (d.title, d.status, d.stage.name, d.pipeline.name, d.amount, d.company.name if d.company else None)
        for d in Deal.objects.select_related("stage", "pipeline", "company")
    }


def test_pipedrive_dry_run_then_commit(tmp_path: Path, owner) -> None:
    folder = write_files(tmp_path / "pipedrive", PIPEDRIVE)
    dry = import_preset("pipedrive", folder, options=ImportOptions(dry_run=True))
    assert dry.ok, dry.reason
    assert {s.name: s.counts["created"] for s in dry.steps} == {"organizations": 2, "people": 2, "deals": 3}
    assert not Deal.objects.exists() and not Company.objects.exists()

    report = import_preset("pipedrive", folder, options=ImportOptions())
    assert report.status == "committed", report.reason
    acme = Company.objects.get(name="Acme Ltd")
    assert (acme.external_id, acme.domain, acme.industry, acme.employees, acme.owner) == (
        "11",
        "acme.example",
        "Manufacturing",
        120,
        owner,
    )
    ada = Contact.objects.get(email="ada@acme.example")
    assert (ada.first_name, ada.last_name, ada.company, ada.job_title, ada.external_id) == ("Ada", "Lovelace", acme, "CTO", "21")
    assert deals() == {
        "31": ("Acme robots", "open", "Proposal Made", "Pipedrive", Decimal("12000.00"), "Acme Ltd"),
        "32": ("Acme spare parts", "won", "Negotiations Started", "Pipedrive", Decimal("3500.50"), "Acme Ltd"),
        "33": ("Globex pilot", "lost", "Contact Made", "Pipedrive", Decimal("800.00"), "Globex"),
    }
    won, lost, open_deal = (Deal.objects.get(external_id=i) for i in ("32", "33", "31"))
    assert won.closed_at == aware(2024, 2, 20, 15, 45) and won.owner == owner
    assert lost.closed_at == aware(2024, 2, 10, 9) and lost.loss_note == "Went with a competitor"
    assert lost.loss_reason.name == "Lost in Pipedrive (see note)"
    assert open_deal.closed_at is None and open_deal.expected_close_date == dt.date(2024, 3, 31)

    again = import_preset("pipedrive", folder, options=ImportOptions())
    assert again.totals()["created"] == 0 and again.totals()["skipped"] == 7
    assert Deal.objects.count() == 3 and Company.objects.count() == 2 and Contact.objects.count() == 2


def test_hubspot_dry_run_then_commit(tmp_path: Path, owner) -> None:
    folder = write_files(tmp_path / "hubspot", HUBSPOT)
    dry = import_preset("hubspot", folder, options=ImportOptions(dry_run=True))
    assert dry.ok, dry.reason
    assert dry.totals()["created"] == 5 and not Deal.objects.exists()

    assert import_preset("hubspot", folder, options=ImportOptions()).status == "committed"
    initech = Company.objects.get(external_id="9001")
    assert (initech.name, initech.domain, initech.country, initech.employees) == (
        "Initech",
        "initech.example",
        "United States",
        300,
    )
    assert Contact.objects.get(email="peter@initech.example").company == initech
    assert deals() == {
        "701": ("Initech TPS", "won", "Contract Sent", "HubSpot", Decimal("5000.00"), "Initech"),
        "702": ("Initech printers", "lost", "Contract Sent", "HubSpot", Decimal("900.00"), "Initech"),
        "703": ("Initech support", "open", "Presentation Scheduled", "HubSpot", Decimal("1500.00"), "Initech"),
    }
    assert Deal.objects.get(external_id="701").closed_at == aware(2024, 3, 1)
    lost = Deal.objects.get(external_id="702")
    assert lost.loss_note == "Budget cut" and lost.closed_at == aware(2024, 3, 5)
    open_deal = Deal.objects.get(external_id="703")
    assert open_deal.closed_at is None and open_deal.expected_close_date == dt.date(2099, 6, 30)


def test_salesforce_dry_run_then_commit(tmp_path: Path, owner) -> None:
    folder = write_files(tmp_path / "salesforce", SALESFORCE)
    dry = import_preset("salesforce", folder, options=ImportOptions(dry_run=True))
    assert dry.ok, dry.reason
    assert {s.name: s.counts["created"] for s in dry.steps} == {"accounts": 1, "contacts": 1, "leads": 2, "opportunities": 3}
    assert not Lead.objects.exists()

    assert import_preset("salesforce", folder, options=ImportOptions()).status == "committed"
    umbrella = Company.objects.get(name="Umbrella Corp")
    assert (umbrella.external_id, umbrella.domain, umbrella.city, umbrella.created_at) == (
        "0015g00000AbCdE",
        "umbrella.example",
        "Raccoon City",
        aware(2024, 1, 15),
    )
    assert Contact.objects.get(email="wesker@umbrella.example").company == umbrella
    jill, chris = Lead.objects.get(email="jill@stars.example"), Lead.objects.get(email="chris@stars.example")
    assert (jill.title, jill.company_name, jill.source.key, jill.status) == ("Jill Valentine", "S.T.A.R.S.", "website", "open")
    assert (chris.source.key, chris.status) == ("other", "disqualified")  # a blank source gets the default (reported)
    assert deals() == {
        "0065g00000Op001": (
            "Umbrella vaccines",
            "won",
            "Negotiation/Review",
            "Salesforce",
            Decimal("250000.00"),
            "Umbrella Corp",
        ),
        "0065g00000Op002": ("Umbrella labs", "lost", "Negotiation/Review", "Salesforce", Decimal("40000.00"), "Umbrella Corp"),
        "0065g00000Op003": ("Umbrella security", "open", "Value Proposition", "Salesforce", Decimal("75000.00"), "Umbrella Corp"),
    }
    won = Deal.objects.get(external_id="0065g00000Op001")
    assert won.closed_at == aware(2024, 3, 31) and won.created_at == aware(2024, 1, 20)
    assert won.custom["lead_source"] == "Partner Referral"
    open_deal = Deal.objects.get(external_id="0065g00000Op003")
    assert open_deal.closed_at is None and open_deal.expected_close_date == dt.date(2099, 12, 31)


def test_one_export_file_runs_the_step_it_fits(tmp_path: Path, owner) -> None:
    folder = write_files(tmp_path / "sf", SALESFORCE)
    report = import_preset("salesforce", folder / "accounts.csv", options=ImportOptions())
    assert report.ok and [s.name for s in report.steps] == ["accounts"]
    assert Company.objects.filter(name="Umbrella Corp").exists()
    wrong = import_preset("hubspot", folder / "leads.csv", options=ImportOptions(dry_run=True))
    assert not wrong.ok and "none of the HubSpot export files" in wrong.reason


def test_an_export_without_some_columns_still_fits(tmp_path: Path, owner) -> None:
    """People pick the columns they export: the step is trimmed to the columns the file has."""
    rows = [[c for c in row if c] for row in PIPEDRIVE["organizations.csv"]]
    header = rows[0]
    keep = [
        header.index(c) for c in ("Organization - Name", "Organization - Owner", "Organization - Website", "Organization - ID")
    ]
    file = write_files(tmp_path / "few", {"orgs.csv": [[row[i] for i in keep] for row in PIPEDRIVE["organizations.csv"]]})
    report = import_preset("pipedrive", file / "orgs.csv", options=ImportOptions())
    assert report.ok, report.reason
    assert sorted(Company.objects.values_list("name", flat=True)) == ["Acme Ltd", "Globex"]


def test_the_command_line_takes_the_presets(tmp_path: Path, owner, capsys) -> None:
    folder = write_files(tmp_path / "pd", PIPEDRIVE)
    call_command("import", "--preset", "pipedrive", str(folder), "--dry-run")
    assert "would be created" in capsys.readouterr().out and not Company.objects.exists()
    call_command("import", "--preset", "pipedrive", str(folder / "organizations.csv"))
    assert Company.objects.count() == 2
    with pytest.raises(CommandError, match="none of the Salesforce export files"):
        call_command("import", "--preset", "salesforce", str(folder / "deals.csv"))


def test_upload_page_offers_the_presets_and_prefills_the_mapping(client, tmp_path: Path, owner, settings) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    client.force_login(UserFactory(role=Role.ADMIN))
    page = client.get(reverse("imports:start")).content.decode()
    for title in ("Pipedrive export", "HubSpot export", "Salesforce export"):
        assert title in page
    folder = write_files(tmp_path / "pd", PIPEDRIVE)
    import_preset("pipedrive", folder / "organizations.csv", options=ImportOptions())

    content = (folder / "deals.csv").read_bytes()
    response = client.post(
        reverse("imports:start"),
        {"file": SimpleUploadedFile("deals-export.csv", content), "holds": "preset:pipedrive", "encoding": "", "delimiter": ""},
    )
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("imports:map", args=[job.pk])
    assert (job.preset, job.into) == ("pipedrive", "deals")
    mapping_page = client.get(response["Location"]).content.decode()
    assert "Proposed by the preset Pipedrive export." in mapping_page

    # Submit the proposal as shown: the preset's rules the form cannot show (constants, templates,
    # value translations, defaults) are kept.
    form = mapping_page
    data = {"on_duplicate": "skip", "save_as": ""}
    for i, _column in enumerate(job.header):
        select = re.search(rf'<select name="column_{i}".*?</select>', form, re.S).group(0)
        chosen = re.search(r'<option value="([^"]*)" selected', select)
        data[f"column_{i}"] = chosen.group(1) if chosen else ""
    assert data[f"column_{job.header.index('Deal - Title')}"] == "title"
    client.post(reverse("imports:map", args=[job.pk]), data)
    job.refresh_from_db()
    assert job.report["ok"], job.report["reason"]
    assert job.report["totals"]["created"] == 3 and not Deal.objects.exists()
    client.post(reverse("imports:commit", args=[job.pk]))
    assert deals()["33"] == ("Globex pilot", "lost", "Contact Made", "Pipedrive", Decimal("800.00"), "Globex")
    assert Deal.objects.get(external_id="32").closed_at == aware(2024, 2, 20, 15, 45)
