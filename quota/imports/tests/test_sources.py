"""Reading files: encodings, delimiters, XLSX, and memory that does not grow with the file."""

from __future__ import annotations

import datetime as dt
import io
import tracemalloc
from decimal import Decimal

import pytest
from django.db import connections
from openpyxl import Workbook

from quota.cli import main
from quota.crm.models import Company, Deal
from quota.imports import sources
from quota.imports.engine import ImportOptions
from quota.imports.mapping import StepMapping
from quota.imports.problems import Problem, ProblemKind, ProblemLog
from quota.imports.services import import_file
from quota.imports.sources import Source, SourceError
from quota.imports.tests.helpers import groups
from quota.testing.factories import UserFactory

pytestmark = pytest.mark.django_db

COMPANIES = StepMapping.from_dict({"into": "companies", "fields": {"name": "Name", "city": "City", "employees": "Staff"}})


def table(text: str, encoding: str) -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


@pytest.mark.parametrize(
    ("encoding", "detected", "fallback"),
    [
        ("utf-8", "utf-8", False),
        ("utf-8-sig", "utf-8-sig", False),
        ("utf-16", "utf-16", False),
        ("cp1250", "cp1250", True),
    ],
)
def test_polish_names_survive_every_usual_encoding(encoding, detected, fallback):
    upload = table("Name;City;Staff\nŁódzka Spółka Żółwi;Łódź;12\nZakład Śląski;Gliwice;7\n", encoding)
    report = import_file(upload, mapping=COMPANIES, options=ImportOptions(), file_name="firmy.csv")
    assert report.ok, report.reason
    assert (report.steps[0].encoding, report.steps[0].delimiter) == (detected, ";")
    assert Company.objects.get(city="Łódź").name == "Łódzka Spółka Żółwi"
    assert bool(groups(report, "encoding_fallback")) is fallback


def test_western_text_that_is_not_utf8_is_read_as_cp1252_and_reported():
    report = import_file(
        table("Name\tCity\tStaff\nPeña Façades\tMünchen\t3\n", "cp1252"), mapping=COMPANIES, options=ImportOptions()
    )
    assert report.ok and report.steps[0].encoding == "cp1252" and report.steps[0].delimiter == "\t"
    assert Company.objects.get().name == "Peña Façades"
    (note,) = groups(report, "encoding_fallback")
    assert "not valid UTF-8" in note.examples[0].message


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_sniffed(delimiter):
    text = delimiter.join(["Name", "City", "Staff"]) + "\n" + delimiter.join(['"Acme, Inc."', "Paris", "3"]) + "\n"
    source = Source(table(text, "utf-8"))
    assert source.info.delimiter == delimiter
    assert list(source.rows()) == [(2, {"Name": "Acme, Inc.", "City": "Paris", "Staff": "3"})]


def test_a_workbook_is_read_with_its_native_values(tmp_path):
    UserFactory(username="rep1")
    book = Workbook()
    sheet = book.active
    sheet.append(["Deal", "Owner", "Value", "Opened", "Closed", "Status"])
    sheet.append(["Big one", "rep1", 1234.5, dt.datetime(2024, 5, 2), dt.date(2024, 6, 1), "won"])
    sheet.append([None, None, None, None, None, None])  # a blank line is skipped
    sheet.append(["Small one", "rep1", 99, "2024-05-03", None, "open"])
    path = tmp_path / "deals.xlsx"
    book.save(path)
    mapping = StepMapping.from_dict(
        {
            "into": "deals",
            "fields": {
                "title": "Deal",
                "owner": "Owner",
                "amount": "Value",
                "created_at": "Opened",
                "closed_at": "Closed",
                "status": "Status",
                "loss_reason": {"default": "Other"},
            },
        }
    )
    report = import_file(path, mapping=mapping, options=ImportOptions())
    assert report.ok, report.reason
    big = Deal.objects.get(title="Big one")
    assert (big.amount, big.created_at.date(), big.closed_at.date(), big.status) == (
        Decimal("1234.50"),
        dt.date(2024, 5, 2),
        dt.date(2024, 6, 1),
        "won",
    )
    assert report.steps[0].rows == 2 and groups(report, "no_duplicate_check")


def test_rows_are_streamed_in_constant_memory(tmp_path):
    path = tmp_path / "big.csv"
    with path.open("w") as handle:
        handle.write("id,name,amount\n")
        for n in range(60_000):
            handle.write(f"{n},Company number {n},{n * 3}.50\n")
    source = Source(path)
    tracemalloc.start()
    rows = 0
    for _number, _row in source.rows():
        rows += 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert rows == 60_000
    assert peak < 1_000_000  # the file is 2.2 MB; a list of its rows would be tens of MB


def test_problem_log_keeps_counts_not_every_problem():
    log = ProblemLog()
    tracemalloc.start()
    for row in range(50_000):
        log.add("deals", Problem(ProblemKind.INVALID_VALUE, "expected a number", row=row, column="amount", value=f"x{row}"))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    (group,) = log.groups.values()
    assert group.count == 50_000 and len(group.examples) == 5 and len(group.values) == 20
    assert peak < 200_000


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\n\n", "empty"),
        (b"PK\x03\x04garbage", "not a readable XLSX"),
    ],
)
def test_unreadable_files_are_refused_in_one_line(content, message):
    with pytest.raises(SourceError) as error:
        Source(io.BytesIO(content), name="broken.xlsx" if content.startswith(b"PK") else "broken.csv")
    assert message in str(error.value)
    report = import_file(io.BytesIO(content), mapping=COMPANIES, options=ImportOptions(), file_name="broken.csv")
    assert not report.ok and "\n" not in report.reason


def test_a_row_longer_than_its_header_is_an_error_not_a_shift():
    report = import_file(table("Name,City,Staff\nAcme, Inc.,Paris,3\n", "utf-8"), mapping=COMPANIES, options=ImportOptions())
    assert not report.ok and "more cell(s) than the header" in report.reason
    assert not Company.objects.exists()


@pytest.mark.slow
def test_an_import_runs_in_memory_that_does_not_grow_with_the_file(tmp_path):
    products = StepMapping.from_dict({"into": "products", "fields": {"sku": "sku", "name": "name", "price": "price"}})

    def peak_for(rows: int) -> int:
        path = tmp_path / f"products-{rows}.csv"
        with path.open("w") as handle:
            handle.write("sku,name,price\n")
            handle.writelines(f"S{n},Product {n},{n % 900}.99\n" for n in range(rows))
        tracemalloc.start()
        report = import_file(path, mapping=products, options=ImportOptions(dry_run=True, batch_rows=250))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert report.ok and report.totals()["created"] == rows
        return peak

    small, large = peak_for(600), peak_for(4_800)
    assert large < small * 1.5  # eight times the rows, about the same memory


# -- limits on what a file may hold ---------------------------------------------------------------------------


def test_a_nul_character_is_refused_with_its_line_and_nothing_is_written(capsys, tmp_path, monkeypatch):
    content = b"Name,City\nAcme,Paris\nNul\x00Corp,Rome\n"
    with pytest.raises(SourceError, match=r"line 3 holds a NUL character"):
        list(Source(io.BytesIO(content), name="companies.csv").rows())
    names = StepMapping.from_dict({"into": "companies", "fields": {"name": "Name", "city": "City"}})
    report = import_file(io.BytesIO(content), mapping=names, options=ImportOptions(), file_name="companies.csv")
    assert not report.ok and "NUL character" in report.reason and "\n" not in report.reason
    assert not Company.objects.exists()
    # The command line: one line on stderr, a non-zero exit.
    path = tmp_path / "companies.csv"
    path.write_bytes(content)
    monkeypatch.setattr(connections, "close_all", lambda: None)  # the command closes them when it ends; the test goes on
    capsys.readouterr()
    assert main(["quota", "import", str(path), "--into", "companies", "--map", "Name=name"]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "NUL character" in lines[0]
    assert not Company.objects.exists()


def test_utf16_text_holds_nul_bytes_but_no_nul_characters():
    content = "Name,City\nŁódź Sp. z o.o.,Łódź\n".encode("utf-16")
    assert b"\x00" in content
    assert list(Source(io.BytesIO(content), name="c.csv").rows()) == [(2, {"Name": "Łódź Sp. z o.o.", "City": "Łódź"})]


def test_a_file_with_more_columns_than_allowed_is_refused():
    wide = ",".join(f"C{n}" for n in range(10_000)) + "\n" + ",".join("x" for _ in range(10_000)) + "\n"
    with pytest.raises(SourceError, match="the file has 10,000 columns; an import takes at most 500"):
        Source(table(wide, "utf-8"), max_columns=500)
    assert len(Source(table(wide, "utf-8")).info.header) == 10_000  # the command line's limit is Excel's, 16,384
    book = Workbook()
    book.active.append([f"C{n}" for n in range(600)])
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(SourceError, match="the file has more than 500 columns"):
        Source(io.BytesIO(out.getvalue()), name="wide.xlsx", max_columns=500)


def test_trailing_blank_header_cells_are_no_columns():
    source = Source(table("Name,City,,,\nAcme,Paris,,,\n", "utf-8"), max_columns=2)
    assert source.info.header == ["Name", "City", "", "", ""]


def test_a_line_too_long_to_be_a_row_is_refused(monkeypatch):
    monkeypatch.setattr(sources, "MAX_LINE_CHARS", 100)
    with pytest.raises(SourceError, match="line 2 is longer than 100 characters"):
        list(Source(table("Name,City\n" + "," * 500 + "\n", "utf-8")).rows())


def test_a_sheet_that_numbers_rows_past_excels_last_is_refused(monkeypatch):
    monkeypatch.setattr(sources, "MAX_SHEET_ROWS", 5)
    book = Workbook()
    book.active.append(["Name", "City"])
    book.active.cell(row=9, column=1, value="far down")
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(SourceError, match="rows past row 5"):
        list(Source(io.BytesIO(out.getvalue()), name="tall.xlsx").rows())


def test_cells_right_of_the_header_in_a_sheet_are_not_read():
    book = Workbook()
    book.active.append(["Name", "City"])
    book.active.append(["Acme", "Paris"])
    book.active.cell(row=2, column=16_000, value="far right")  # a row as wide as Excel allows
    out = io.BytesIO()
    book.save(out)
    assert list(Source(io.BytesIO(out.getvalue()), name="c.xlsx").rows()) == [(2, {"Name": "Acme", "City": "Paris"})]
