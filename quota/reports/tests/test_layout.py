"""The files people read: PDF tables inside the margins, one date format, unambiguous sheet names, PDF = XLSX to the cent."""

import datetime as dt
import io
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.utils import translation
from openpyxl import load_workbook

from quota.core.exports import sheet_title
from quota.core.models import ExchangeRate
from quota.crm.services import deal_close_won, deal_create
from quota.reports.content import build_content
from quota.reports.renderers import render
from quota.reports.services import report_create
from quota.reports.tests.helpers import NOW, at, report_fields

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
WIDE_KPIS = [
    "won_revenue", "won_deals", "lost_deals", "win_rate", "avg_deal_value", "sales_cycle_days",
    "open_deals", "weighted_pipeline", "avg_days_open", "calls_made", "emails_sent", "pipeline_value",
]  # fmt: skip
MARGIN_PT = 14 / 25.4 * 72  # the PDF's left and right page margin, 14 mm


def pdf_text(path, *options):
    return subprocess.run(["pdftotext", *options, str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def wide(company):
    fields = report_fields(kpis=WIDE_KPIS, tables=["won_deals", "lost_deals"], formats=["pdf", "xlsx"])
    return report_create(by=company.director, recipients=[company.director], **fields)


@needs_poppler
@pytest.mark.parametrize("language", ["en", "pl"])
def test_a_wide_by_person_table_stays_inside_the_margins(wide, tmp_path, language):
    path = tmp_path / "wide.pdf"
    with translation.override(language):
        path.write_bytes(render(build_content(wide, as_of=NOW), "pdf"))
    boxes = pdf_text(path, "-bbox")
    page_width = float(re.search(r'<page width="([\d.]+)"', boxes).group(1))
    words = [
        (float(x_max), word)
        for x_max, word in re.findall(r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)<', boxes)
    ]
    outside = [word for x_max, word in words if x_max > page_width - MARGIN_PT + 1]
    assert not outside
    lines = [" ".join(line.split()) for line in pdf_text(path, "-layout").splitlines()]
    nils = [line for line in lines if line.startswith("Nils Northrep")]
    assert nils and all("7" in line and "000" in line for line in nils[:1])  # his pipeline: the right-most column


@needs_poppler
@pytest.mark.parametrize(
    ("language", "day"), [("en", r"\d{2}/\d{2}/\d{4}"), ("pl", r"\d{2}-\d{2}-\d{4}"), ("ru", r"\d{2}\.\d{2}\.\d{4}")]
)
def test_a_pdf_writes_every_date_in_its_languages_one_format(wide, tmp_path, language, day):
    path = tmp_path / "dates.pdf"
    with translation.override(language):
        path.write_bytes(render(build_content(wide, as_of=NOW), "pdf"))
    text = pdf_text(path, "-layout")
    dates = re.findall(r"\d{1,4}[-./]\d{1,2}[-./]\d{2,4}", text)
    assert len(dates) > 5  # spans of both periods, the as-of line, the tables' days
    assert all(re.fullmatch(day, found) for found in dates), sorted(set(dates))
    assert "03/03/2025" in text if language == "en" else True  # last week starts on Monday 3 March


def test_sheet_names_keep_every_part_within_31_characters():
    taken: set[str] = set()
    first = sheet_title("Deals won in the period", "Last week", taken=taken)
    second = sheet_title("Deals won in the period", "Month to date", taken=taken)
    assert (first, second) == ("Deals won in the p… – Last week", "Deals won in t… – Month to date")
    assert sheet_title("Deals won in the period", "Last week", taken=taken) == "Deals won in t… – Last week (2)"
    assert sheet_title("a/b: [c]?") == "a-b- -c--"
    assert all(len(title) <= 31 for title in taken)


def test_xlsx_sheet_names_are_unambiguous_in_every_language(wide):
    for language in ("en", "pl", "ru", "fa"):
        with translation.override(language):
            book = load_workbook(io.BytesIO(render(build_content(wide, as_of=NOW), "xlsx")))
            names = book.sheetnames
            periods = [str(label) for label in (translation.gettext("Last week"), translation.gettext("Month to date"))]
        assert len(names) == len(set(names)) == 1 + 2 * 3 and all(len(name) <= 31 for name in names)
        assert not any(name.endswith(")") and "(" in name[-4:] for name in names), names  # no "(2)": each says what it is
        for period in periods:  # each period's sheets say which period, in full or recognisably cut
            assert sum(1 for name in names if period[:6] in name) == 3, (language, names)


def test_pdf_and_xlsx_totals_are_equal_to_the_cent(company, tmp_path):
    ExchangeRate.objects.create(currency="USD", valid_from=dt.date(2020, 1, 1), rate=Decimal("1.0007"))
    deal = deal_create(
        by=None,
        title="A dollar deal",
        owner=company.rep_north,
        amount=Decimal("10.00"),
        currency="USD",
        created_at=at("2025-02-01"),
    )
    deal_close_won(deal=deal, by=None, at=at("2025-03-06"))  # 10.007 EUR: half a cent and more, rounds up
    report = report_create(by=company.director, recipients=[company.director], **report_fields(formats=["pdf", "xlsx"]))
    content = build_content(report, as_of=NOW)
    book = load_workbook(io.BytesIO(render(content, "xlsx")))
    summary = {(row[0], row[4]): row[5] for row in book["Summary"].iter_rows(values_only=True) if row and len(row) > 5}
    assert summary[("Last week", "won_revenue")] == 112809.51  # 12,000.50 + 800 + 99,999 + 10.007
    path = tmp_path / "report.pdf"
    path.write_bytes(render(content, "pdf"))
    lines = [" ".join(line.split()) for line in pdf_text(path, "-layout").splitlines()] if shutil.which("pdftotext") else []
    if lines:  # KPI money is shown in whole units, rounded once from the same exact value
        assert any(line.startswith("Won revenue (sales volume) €112,810") for line in lines)
        assert any(line.startswith("Nils Northrep €12,011") for line in lines)
    money_cells = [cell for row in book["Summary"].iter_rows() for cell in row if cell.value == 112809.51]
    assert money_cells and all(cell.number_format == "#,##0" for cell in money_cells)  # shown as 112,810 too
    breakdown = next(book[name] for name in book.sheetnames if "Last week" in name and "person" in name.lower())
    nils = next(row for row in breakdown.iter_rows(values_only=True) if row[0] == "Nils Northrep")
    assert nils[1] == 12010.51
