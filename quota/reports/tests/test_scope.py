"""A report shows what its scope person may see: a rep's report never holds another team's records."""

import csv
import io
import shutil
import subprocess

import pytest
from openpyxl import load_workbook

from quota.reports.content import build_content
from quota.reports.renderers import render
from quota.reports.services import report_create
from quota.reports.tests.helpers import NOW, report_fields

SOUTH = ("South secret win", "South lost", "South open deal", "Sven Southrep", "Southrep", "99,999", "99999", "45,000", "45000")


@pytest.fixture
def rep_report(company):
    return report_create(by=company.rep_north, recipients=[company.rep_north, company.manager_north], **report_fields())


def test_the_content_holds_only_the_reps_team(rep_report):
    content = build_content(rep_report, as_of=NOW)
    people = {row.label for section in content.sections for row in section.groups}
    assert people == {"Nils Northrep", "Nina Northrep"}
    deals = {row[0] for section in content.sections for table in section.tables for row in table.rows}
    deals |= {row[0] for table in content.tables for row in table.rows}
    assert deals == {"North big win", "North small win", "North early March", "North open deal"}
    last_week = {total.kpi.key: total.value for total in content.sections[0].totals}
    assert float(last_week["won_revenue"]) == 12800.50  # 12,000.50 + 800: the south's 99,999 is not there
    assert last_week["won_deals"] == 2


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_no_format_mentions_another_teams_records(rep_report, tmp_path):
    content = build_content(rep_report, as_of=NOW)
    pdf = tmp_path / "rep.pdf"
    pdf.write_bytes(render(content, "pdf"))
    texts = {
        "pdf": subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout,
        "csv": render(content, "csv").decode("utf-8-sig"),
        "xlsx": "\n".join(
            str(value)
            for sheet in load_workbook(io.BytesIO(render(content, "xlsx"))).worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if value is not None
        ),
    }
    for fmt, text in texts.items():
        assert "North big win" in text or fmt == "csv", fmt  # the csv has no tables, only numbers
        assert "Nils Northrep" in text, fmt
        for secret in SOUTH:
            assert secret not in text, (fmt, secret)
    assert {row["group"] for row in csv.DictReader(io.StringIO(texts["csv"]))} == {"", "Nils Northrep", "Nina Northrep"}


def test_a_director_may_report_as_a_manager_sees_it(company):
    report = report_create(
        by=company.director,
        recipients=[company.director, company.manager_south],
        **report_fields(scope_user=company.manager_south),
    )
    content = build_content(report, as_of=NOW)
    assert {row.label for section in content.sections for row in section.groups} == {"Sven Southrep"}
    assert content.scope.startswith(f"As {company.manager_south} sees it")
