"""Each format carries the KPI engine's numbers for the report's scope and periods."""

import csv
import io
import shutil
import subprocess

import pytest
from openpyxl import load_workbook

from quota.kpi.engine import evaluate
from quota.kpi.formatting import as_json, as_text
from quota.reports.content import build_content
from quota.reports.periods import window
from quota.reports.renderers import render
from quota.reports.services import report_create
from quota.reports.tests.helpers import KPIS, NOW, report_fields

needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")


def engine_totals(user, key):
    """The engine's own totals for a report period, as the report's scope person sees them."""
    period = window(key, NOW.date())
    evaluation = evaluate(KPIS, user=user, start=period.start, end=period.end, every="none", by="none")
    return {kpi: (evaluation[kpi].point(None, None).value, evaluation[kpi].unit) for kpi in KPIS}


def engine_by_person(user, key):
    period = window(key, NOW.date())
    evaluation = evaluate(KPIS, user=user, start=period.start, end=period.end, every="none", by="person", compare=False)
    return {(p.group.label, kpi): p.value for kpi in KPIS for p in evaluation[kpi].points}


@pytest.fixture
def weekly(company):
    return report_create(by=company.director, recipients=[company.director], **report_fields())


@needs_pdftotext
def test_pdf_text_has_the_engines_numbers(weekly, company, tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(render(build_content(weekly, as_of=NOW), "pdf"))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    lines = [" ".join(line.split()) for line in text.splitlines()]
    for key in ("last_week", "month_to_date"):
        for kpi, (value, unit) in engine_totals(company.director, key).items():
            assert as_text(value, unit) in text, (key, kpi)
    last_week = engine_totals(company.director, "last_week")
    # Money in the one format of the pages, whole units (112,799.50 rounds half to even); rates rounded, one decimal.
    assert "Won revenue (sales volume) €112,800 €1,500" in lines  # the total and the period before
    assert as_text(last_week["won_revenue"][0], last_week["won_revenue"][1]) == "€112,800"
    assert "Nils Northrep €12,000 1 100.0% €7,000" in lines  # his row of the breakdown
    assert "<svg" not in text and "Won revenue (sales volume) – Last week" in text  # charts drawn, with titles


def test_xlsx_cells_are_the_engines_numbers(weekly, company, tmp_path):
    book = load_workbook(io.BytesIO(render(build_content(weekly, as_of=NOW), "xlsx")))
    summary = book["Summary"]
    header = next(row for row in summary.iter_rows(values_only=True) if row[0] == "Period")
    rows = [dict(zip(header, row, strict=False)) for row in summary.iter_rows(values_only=True) if row[4] in KPIS]
    assert len(rows) == 2 * len(KPIS)
    for row in rows:
        key = "last_week" if row["Period"] == "Last week" else "month_to_date"
        value, unit = engine_totals(company.director, key)[row["Key"]]
        assert row["Value"] == as_json(value, unit), row
    assert (
        summary.cell(summary.max_row, 6).number_format == "#,##0"
    )  # money keeps a number format: whole units, as the PDF shows it
    breakdown = book["Last week – By person"]
    expected = engine_by_person(company.director, "last_week")
    names = [cell.value for cell in breakdown[1]]
    for row in breakdown.iter_rows(min_row=2, values_only=True):
        for index, kpi in enumerate(KPIS, start=1):
            unit = engine_totals(company.director, "last_week")[kpi][1]
            assert row[index] == as_json(expected[(row[0], kpi)], unit), (row[0], names[index])
    assert {"Won deals – Last week", "Open pipeline"} <= set(book.sheetnames)


def test_csv_rows_are_the_engines_numbers(weekly, company):
    data = render(build_content(weekly, as_of=NOW), "csv").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(data)))
    for key in ("last_week", "month_to_date"):
        totals = engine_totals(company.director, key)
        for kpi, (value, unit) in totals.items():
            (row,) = [r for r in rows if r["period"] == key and r["group"] == "" and r["kpi"] == kpi]
            assert row["value"] == ("" if value is None else str(as_json(value, unit))), row
        by_person = engine_by_person(company.director, key)
        for (person, kpi), value in by_person.items():
            (row,) = [r for r in rows if r["period"] == key and r["group"] == person and r["kpi"] == kpi]
            assert row["value"] == str(as_json(value, totals[kpi][1]))


def test_a_report_without_breakdown_or_tables_renders_every_format(company):
    report = report_create(by=company.director, recipients=[company.director], **report_fields(group_by="none", tables=[]))
    content = build_content(report, as_of=NOW)
    assert content.sections[0].groups == []
    for fmt in ("pdf", "xlsx", "csv"):
        assert render(content, fmt)


def test_a_person_without_records_of_a_kpi_has_zero_of_a_count_and_no_rate(company):
    from decimal import Decimal

    from quota.crm.services import deal_create
    from quota.reports.tests.helpers import at
    from quota.testing.factories import UserFactory

    newcomer = UserFactory(first_name="Nadia", last_name="Newcomer", team=company.north)
    deal_create(by=None, title="First steps", owner=newcomer, amount=Decimal("300"), created_at=at("2025-03-02"))
    report = report_create(by=company.director, recipients=[company.director], **report_fields())
    section = build_content(report, as_of=NOW).sections[0]
    (row,) = [row for row in section.groups if row.label == "Nadia Newcomer"]
    assert row.values == [0, 0, None, Decimal("300")]  # won revenue, won deals, win rate, pipeline


def test_names_that_look_like_formulas_stay_text_in_xlsx_and_csv(weekly, company):
    company.rep_north.first_name = "=HYPERLINK(1)"
    company.rep_north.save()
    content = build_content(weekly, as_of=NOW)
    book = load_workbook(io.BytesIO(render(content, "xlsx")))
    labels = [row[0] for row in book["Last week – By person"].iter_rows(min_row=2, values_only=True)]
    assert "'=HYPERLINK(1) Northrep" in labels
    assert not any(isinstance(label, str) and label.startswith("=") for label in labels)
    rows = list(csv.DictReader(io.StringIO(render(content, "csv").decode("utf-8-sig"))))
    assert "'=HYPERLINK(1) Northrep" in {row["group"] for row in rows}


def test_a_reports_xlsx_is_written_as_every_export_is(company, settings):
    """Guard, number formats, dates and header style are core.exports', in every sheet of the report."""
    from quota.core.exports import NUMBER_FORMATS, Kind
    from quota.reports.tests.helpers import won

    settings.REPORTS_TABLE_ROWS = 3
    won(company.rep_north, '=HYPERLINK("http://evil.example","Click")', "250.25", "2025-02-01", "2025-03-06")
    won(company.rep_north, "Bell\x07 and\r\nbreak", "10", "2025-02-01", "2025-03-08")  # a cell cannot hold \x07
    report = report_create(by=company.director, recipients=[company.director], **report_fields())
    book = load_workbook(io.BytesIO(render(build_content(report, as_of=NOW), "xlsx")))

    sheet = book["Won deals – Last week"]
    header, *rows, note = list(sheet.iter_rows())
    assert [cell.value for cell in header] == ["Deal", "Company", "Owner", "Closed", "Value"]
    assert all(cell.font.bold for cell in header) and sheet.freeze_panes == "A2"
    titles = [row[0].value for row in rows]
    assert '\'=HYPERLINK("http://evil.example","Click")' in titles  # text, never a formula
    assert "Bell and\nbreak" in titles
    assert all(row[0].data_type == "s" for row in rows)
    assert all(row[3].is_date and row[3].number_format == NUMBER_FORMATS[Kind.DATE] for row in rows)
    assert [row[4].value for row in rows] == [10, 800, 250.25]  # the newest first, cents kept
    assert all(row[4].number_format == NUMBER_FORMATS[Kind.WHOLE_MONEY] == "#,##0" for row in rows)  # shown as the PDF does
    assert note[0].value == "The first 3 of 5."

    summary = book["Summary"]
    as_of = next(row for row in summary.iter_rows() if row[0].value == "As of")[1]
    assert as_of.is_date and as_of.number_format == NUMBER_FORMATS[Kind.DATETIME]
    assert summary["A1"].font.bold and summary["A1"].font.size == 14  # the report's title
    header_row = next(row for row in summary.iter_rows() if row[0].value == "Period")
    assert all(cell.font.bold for cell in header_row) and summary.freeze_panes == f"A{header_row[0].row + 1}"
    formats = {row[4].value: row[5].number_format for row in summary.iter_rows(min_row=header_row[0].row + 1)}
    assert formats == {"won_revenue": "#,##0", "won_deals": "#,##0", "win_rate": "0.0%", "pipeline_value": "#,##0"}
    assert all(row[1].is_date for row in summary.iter_rows(min_row=header_row[0].row + 1))
