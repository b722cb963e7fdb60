"""A new user's first import: lead sources, loss reasons and custom fields the file names are created when
asked (--create-missing), blanks go to a "(blank)" source when asked (--blank-as-group), and a later file
marks conversions in update mode with only the key and the columns it has."""

import datetime as dt
import json
import random
from io import StringIO

import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from quota.crm.choices import CustomFieldType
from quota.crm.custom_fields import definitions
from quota.crm.models import CustomField, Deal, Lead, LeadSource, LossReason
from quota.imports.engine import ImportOptions
from quota.imports.mapping import StepMapping
from quota.imports.missing import infer_type
from quota.imports.services import import_file
from quota.imports.tests.helpers import groups

pytestmark = pytest.mark.django_db

LEADS = StepMapping.from_dict(
    {
        "into": "leads",
        "fields": {"external_id": "id", "email": "email", "source": "origin", "created_at": "created"},
    }
)
NEW_ORIGINS = ["paid_search", "organic_search", "direct_traffic", "email", "display"]


def run(path, *, mapping=LEADS, **options):
    return import_file(path, mapping=mapping, options=ImportOptions(**options))


def import_command(*args):
    out = StringIO()
    call_command("import", *map(str, args), stdout=out)
    return out.getvalue()


def kpi_rows(*args):
    out = StringIO()
    call_command("kpi", *args, "--format", "json", stdout=out)
    return json.loads(out.getvalue())


def test_leads_with_new_and_blank_origins_then_their_conversions_give_the_conversion_rate_by_source(write_csv):
    """The marketing funnel a new user brings: origins Quota has not heard of, some blank; a second file marks
    the leads that converted (only the id and the date). The conversion rate by source equals a count of the files."""
    chance = random.Random(14)
    origins = [*NEW_ORIGINS, "referral", ""]  # referral is built in; "" is blank
    leads = []
    for number in range(240):
        created = dt.date(2024, 1, 1) + dt.timedelta(days=chance.randrange(90))
        leads.append([f"L{number}", f"lead{number}@example.com", chance.choice(origins), created.isoformat()])
    converted = []
    for lead_id, _, _, created in leads:
        if chance.random() < 0.3:
            converted.append(
                [lead_id, "converted", (dt.date.fromisoformat(created) + dt.timedelta(days=chance.randrange(40))).isoformat()]
            )
    leads_csv = write_csv("leads.csv", [["id", "email", "origin", "created"], *leads])
    conversions_csv = write_csv("conversions.csv", [["id", "status", "converted_on"], *converted])

    import_command(
        leads_csv,
        "--into",
        "leads",
        "--map",
        "id=external_id,email=email,origin=source,created=created_at",
        "--create-missing",
        "--blank-as-group",
    )
    import_command(
        conversions_csv,
        "--into",
        "leads",
        "--map",
        "id=external_id,status=status,converted_on=converted_at",
        "--match",
        "external_id",
        "--on-duplicate",
        "update",
    )

    assert Lead.objects.count() == 240 and Lead.objects.filter(status="converted").count() == len(converted)
    rows = kpi_rows(
        "eval", "lead_conversion_rate", "--from", "2024-01-01", "--to", "2024-03-31", "--every", "none", "--by", "source"
    )
    quota = {row["group"]: row["value"] for row in rows}

    frame = pd.DataFrame(leads, columns=["id", "email", "origin", "created"])
    frame["origin"] = frame["origin"].replace("", "(blank)")
    frame["converted"] = frame["id"].isin({row[0] for row in converted})
    expected = frame.groupby("origin")["converted"].mean().to_dict()
    names = {s.key: s.display_name for s in LeadSource.objects.all()}
    expected = {names.get(origin, origin): rate for origin, rate in expected.items()}
    assert quota == pytest.approx(expected, abs=1e-9)
    assert "(blank)" in quota and set(NEW_ORIGINS) <= set(quota)


def test_the_dry_run_lists_what_it_would_create_and_creates_nothing(write_csv):
    path = write_csv(
        "leads.csv",
        [
            ["id", "email", "origin", "created", "contract", "churned", "seats", "note"],
            *[
                [
                    f"L{n}",
                    f"l{n}@x.com",
                    "paid_search" if n % 2 else "",
                    "2024-01-05",
                    ["Monthly", "One year"][n % 2],
                    ["Yes", "No"][n % 3 == 0],
                    str(n),
                    f"note {n}",
                ]
                for n in range(6)
            ],
        ],
    )
    mapping = StepMapping.from_dict(
        {
            "into": "leads",
            "fields": {
                "external_id": "id",
                "email": "email",
                "source": "origin",
                "created_at": "created",
                "custom.contract": "contract",
                "custom.churned": "churned",
                "custom.seats": "seats",
                "custom.note": "note",
            },
        }
    )
    sources, fields = LeadSource.objects.count(), CustomField.objects.count()

    report = run(path, mapping=mapping, dry_run=True, create_missing=True, blank_as_group=True)

    assert report.ok, report.reason
    assert report.created == [
        "custom field lead.contract (choice: Monthly, One year)",
        "custom field lead.churned (boolean)",
        "custom field lead.seats (number)",
        "custom field lead.note (text)",
        "lead source '(blank)' (key blank)",
        "lead source 'paid_search' (key paid_search)",
    ]
    assert LeadSource.objects.count() == sources and CustomField.objects.count() == fields and not Lead.objects.exists()
    assert "contract" not in definitions("lead")  # the rolled-back field is not left in the definitions' cache
    assert report.as_dict()["created"] == report.created
    report = run(path, mapping=mapping, create_missing=True, blank_as_group=True)
    assert report.status == "committed"
    assert {f.key: f.field_type for f in CustomField.objects.filter(target="lead")} == {
        "contract": "choice",
        "churned": "boolean",
        "seats": "number",
        "note": "text",
    }
    lead = Lead.objects.get(external_id="L3")
    assert lead.custom == {"contract": "One year", "churned": False, "seats": 3, "note": "note 3"}
    assert lead.source.name == "paid_search" and Lead.objects.get(external_id="L0").source.name == "(blank)"


def test_without_the_option_an_unknown_source_is_refused_and_the_refusal_names_the_option(write_csv):
    path = write_csv("leads.csv", [["id", "email", "origin", "created"], ["L1", "a@x.com", "paid_search", "2024-01-05"]])
    (group,) = groups(run(path), "not_found")
    assert group.examples[0].message == (
        "there is no lead source 'paid_search'; the import creates missing lead sources with --create-missing, "
        'or "Create what is missing" on the import page'
    )
    path = write_csv("blank.csv", [["id", "email", "origin", "created"], ["L1", "a@x.com", "", "2024-01-05"]])
    (group,) = groups(run(path, blank_as_group=True), "not_found")
    assert "--blank-as-group" in group.examples[0].message and "--create-missing" in group.examples[0].message
    assert "quota leadsource add blank --name '(blank)'" in group.examples[0].message
    (group,) = groups(run(path), "required_blank")  # without the option a blank source is refused, as before
    assert group.examples[0].message == "source is required"


def test_a_bad_row_leaves_nothing_created(write_csv):
    """All or nothing: the sources and fields created for the file go with its rows."""
    path = write_csv(
        "leads.csv",
        [
            ["id", "email", "origin", "created", "tier"],
            ["L1", "a@x.com", "paid_search", "2024-01-05", "gold"],
            ["L2", "b@x.com", "webinar", "not a date", "gold"],
        ],
    )
    mapping = StepMapping.from_dict(
        {
            "into": "leads",
            "fields": {"external_id": "id", "email": "email", "source": "origin", "created_at": "created", "custom.tier": "tier"},
        }
    )
    report = run(path, mapping=mapping, create_missing=True)
    assert report.status == "failed" and "1 row has errors" in report.reason
    assert not LeadSource.objects.filter(name__in=["paid_search", "webinar"]).exists()
    assert not CustomField.objects.exists() and not Lead.objects.exists()
    assert "tier" not in definitions("lead")


def test_loss_reasons_a_deal_file_names_are_created(write_csv, ann_at_acme):
    from quota.imports.tests.helpers import DEAL_COLUMNS, DEAL_MAPPING

    path = write_csv(
        "deals.csv",
        [
            DEAL_COLUMNS,
            ["D1", "Lost one", "rep1", "Acme", "Qualification", "lost", "2024-01-02", "2024-02-01", "100", "Went quiet"],
        ],
    )
    report = import_file(path, mapping=DEAL_MAPPING, options=ImportOptions(create_missing=True))
    assert report.status == "committed", report.reason
    assert report.created == ["loss reason 'Went quiet'"]
    assert LossReason.objects.filter(name="Went quiet").exists()


def test_a_lost_deals_blank_loss_reason_is_the_blank_group_and_a_won_deals_stays_blank(write_csv, ann_at_acme):
    from quota.imports.tests.helpers import DEAL_COLUMNS, DEAL_MAPPING

    path = write_csv(
        "deals.csv",
        [
            DEAL_COLUMNS,
            ["D1", "Lost one", "rep1", "Acme", "Qualification", "lost", "2024-01-02", "2024-02-01", "100", ""],
            ["D2", "Won one", "rep1", "Acme", "Qualification", "won", "2024-01-02", "2024-02-01", "100", ""],
        ],
    )
    (group,) = groups(import_file(path, mapping=DEAL_MAPPING, options=ImportOptions(blank_as_group=True)), "not_found")
    assert "there is no loss reason '(blank)' for the blank values" in group.examples[0].message
    assert "leadsource" not in group.examples[0].message  # the command hint is the lead sources' only

    report = import_file(path, mapping=DEAL_MAPPING, options=ImportOptions(blank_as_group=True, create_missing=True))
    assert report.status == "committed", report.reason
    assert report.created == ["loss reason '(blank)'"]
    lost, won = Deal.objects.get(external_id="D1"), Deal.objects.get(external_id="D2")
    assert lost.loss_reason.name == "(blank)" and won.loss_reason is None


def test_update_mode_needs_only_the_key_and_the_mapped_columns(write_csv):
    source = LeadSource.objects.get(key="website")
    Lead.objects.create(title="Ann", email="ann@x.com", source=source, external_id="L1")
    path = write_csv(
        "conversions.csv", [["id", "status", "on"], ["L1", "converted", "2030-01-01"], ["L9", "converted", "2030-01-01"]]
    )
    mapping = StepMapping.from_dict(
        {"into": "leads", "match": ["external_id"], "fields": {"external_id": "id", "status": "status", "converted_at": "on"}}
    )

    report = run(path, mapping=mapping, on_duplicate="update", skip_bad_rows=True)

    assert report.status == "committed" and report.totals()["updated"] == 1
    assert Lead.objects.get(external_id="L1").status == "converted"
    (group,) = groups(report, "required_blank")
    assert (group.examples[0].row, group.examples[0].message) == (
        3,
        "matches no existing lead, and a new lead needs title and source: map columns to them",
    )
    assert not groups(report, "unmapped_required_field")


def test_a_default_is_reported_only_when_it_was_used(write_csv):
    source = LeadSource.objects.get(key="website")
    Lead.objects.create(title="Ann", email="ann@x.com", source=source, external_id="L1", company_name="Acme")
    path = write_csv("leads.csv", [["id", "company"], ["L1", ""], ["L2", ""]])
    mapping = StepMapping.from_dict(
        {
            "into": "leads",
            "fields": {
                "external_id": "id",
                "company_name": {"column": "company", "default": "Unknown"},
                "source": {"value": "website"},
                "email": {"value": ""},
            },
        }
    )
    report = run(path, mapping=mapping, on_duplicate="update")
    assert report.status == "committed", report.reason
    (group,) = groups(report, "default_used")
    assert group.rows == 1 and group.examples[0].row == 3  # L1 kept its company: no default was used there
    assert Lead.objects.get(external_id="L1").company_name == "Acme"


def test_a_database_rule_is_refused_in_words_with_the_values(write_csv):
    path = write_csv(
        "leads.csv",
        [["id", "email", "status", "created", "converted"], ["L1", "a@x.com", "converted", "2024-02-01", "2024-01-03"]],
    )
    mapping = StepMapping.from_dict(
        {
            "into": "leads",
            "fields": {
                "external_id": "id",
                "email": "email",
                "status": "status",
                "created_at": "created",
                "converted_at": "converted",
                "source": {"value": "website"},
            },
        }
    )
    (group,) = groups(run(path, mapping=mapping), "refused_by_database")
    assert group.examples[0].message == "converted on 2024-01-03, before created on 2024-02-01"
    assert "lead_converted_after_created" not in group.examples[0].message


@pytest.mark.parametrize(
    ("values", "field_type", "choices"),
    [
        (["Yes", "no", "", "YES"], CustomFieldType.BOOLEAN, ()),
        (["1", "0", "1"], CustomFieldType.BOOLEAN, ()),
        (["1", "2", "3.5", "n/a"], CustomFieldType.NUMBER, ()),
        (["2024-01-02", "2024-3-4"], CustomFieldType.DATE, ()),
        (
            ["Two year", "Month-to-month", "One year", "Month-to-month", "One year", "Two year"],
            CustomFieldType.CHOICE,
            ("Month-to-month", "One year", "Two year"),
        ),
        (["a", "b", "c"], CustomFieldType.TEXT, ()),  # as many values as rows: not categories
        ([f"v{n % 21}" for n in range(100)], CustomFieldType.TEXT, ()),  # too many distinct values for a choice
        (["", None], CustomFieldType.TEXT, ()),
    ],
)
def test_a_custom_field_type_is_inferred_from_the_column(values, field_type, choices):
    inferred = infer_type(values)
    assert (inferred.field_type, inferred.choices) == (field_type, choices)


def test_the_command_prints_what_a_dry_run_would_create(write_csv):
    path = write_csv("leads.csv", [["id", "email", "origin", "created"], ["L1", "a@x.com", "webinar", "2024-01-05"]])
    text = import_command(
        path,
        "--into",
        "leads",
        "--map",
        "id=external_id,email=email,origin=source,created=created_at",
        "--create-missing",
        "--dry-run",
    )
    assert "  would create: lead source 'webinar' (key webinar)" in text
    assert not LeadSource.objects.filter(key="webinar").exists()
    with pytest.raises(CommandError, match="there is no lead source 'webinar'"):
        import_command(path, "--into", "leads", "--map", "id=external_id,email=email,origin=source,created=created_at")


def test_the_mapping_page_creates_what_is_missing_when_ticked(client, settings, tmp_path):
    from django.urls import reverse

    from quota.accounts.models import Role
    from quota.imports.tests.test_pages import csv_bytes, job_of, run_dry, upload
    from quota.testing.factories import UserFactory

    settings.MEDIA_ROOT = tmp_path / "media"
    client.force_login(UserFactory(role=Role.DIRECTOR))
    rows = [["id", "email", "origin", "created"], ["L1", "a@x.com", "webinar", "2024-01-05"], ["L2", "b@x.com", "", "2024-01-06"]]
    job = job_of(upload(client, csv_bytes(rows), name="leads.csv", holds="into:leads"))
    page = client.get(reverse("imports:map", args=[job.pk])).content.decode()
    assert 'name="create_missing"' in page and 'name="blank_as_group"' in page
    choices = {"id": "external_id", "email": "email", "origin": "source", "created": "created_at"}

    report = run_dry(client, job, choices, create_missing="on", blank_as_group="on").content.decode()

    assert "Would create:" in report and "lead source &#x27;webinar&#x27;" in report
    assert not LeadSource.objects.filter(name__in=["webinar", "(blank)"]).exists()
    client.post(reverse("imports:commit", args=[job.pk]))
    assert sorted(Lead.objects.values_list("external_id", "source__name")) == [("L1", "webinar"), ("L2", "(blank)")]


def test_a_column_becomes_a_new_custom_field_on_the_mapping_page(client, settings, tmp_path):
    """The page offers each column as a new custom field; it is created only with "Create what is missing"."""
    from django.urls import reverse

    from quota.accounts.models import Role
    from quota.imports.tests.test_pages import csv_bytes, job_of, mapping_post, run_dry, upload
    from quota.testing.factories import UserFactory

    settings.MEDIA_ROOT = tmp_path / "media"
    client.force_login(UserFactory(role=Role.DIRECTOR))
    rows = [["id", "email", "origin", "created", "Contract type"], ["L1", "a@x.com", "website", "2024-01-05", "Monthly"]]
    job = job_of(upload(client, csv_bytes(rows), name="leads.csv", holds="into:leads"))
    page = client.get(reverse("imports:map", args=[job.pk])).content.decode()
    assert 'value="custom.contract_type"' in page and "New custom field “Contract type”" in page
    choices = {"id": "external_id", "email": "email", "origin": "source", "created": "created_at"}
    choices["Contract type"] = "custom.contract_type"

    refused = client.post(reverse("imports:map", args=[job.pk]), mapping_post(job, choices))
    assert refused.status_code == 400 and "Tick “Create what is missing”" in refused.content.decode()
    assert not CustomField.objects.exists()

    report = run_dry(client, job, choices, create_missing="on").content.decode()
    assert "custom field lead.contract_type" in report, report
    client.post(reverse("imports:commit", args=[job.pk]))
    field = CustomField.objects.get(target="lead", key="contract_type")
    assert (field.label, field.field_type) == ("Contract type", "text")
    assert Lead.objects.get(external_id="L1").custom == {"contract_type": "Monthly"}
