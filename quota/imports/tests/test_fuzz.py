"""Fuzzing: broken encodings, wrong delimiters, missing columns, huge cells, bad dates and numbers.

Whatever the file, the import returns a report (it never raises) and either commits every good row
it reports or leaves the database exactly as it was.
"""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from quota.crm.models import Company, Deal, DealStageChange
from quota.imports.engine import ImportOptions
from quota.imports.services import import_file
from quota.imports.tests.helpers import DEAL_COLUMNS, DEAL_MAPPING
from quota.testing.factories import CompanyFactory, UserFactory, loss_reason

pytestmark = pytest.mark.django_db

COLUMNS = DEAL_COLUMNS
DEALS = DEAL_MAPPING
PLAUSIBLE = {
    "id": st.sampled_from(["A1", "A2", "A3", "", "A1 "]),
    "title": st.sampled_from(["Laptops", "", "Ünïcödé ✓ deal", "x" * 300]),
    "owner": st.sampled_from(["rep1", "Ann Rep", "nobody", ""]),
    "company": st.sampled_from(["Acme", "acme", "Unknown Ltd", ""]),
    "stage": st.sampled_from(["Qualification", "Proposal", "Closing", ""]),
    "status": st.sampled_from(["open", "won", "lost", "Won", "maybe", ""]),
    "created": st.sampled_from(["2024-01-10", "2024-02-30", "10/01/2024", "yesterday", "", "0000-01-01", "9999-12-31"]),
    "closed": st.sampled_from(["", "2024-03-01", "2023-01-01", "31.02.2024"]),
    "amount": st.sampled_from(["1000", "-5", "1,234.56", "1e400", "NaN", "12.345", "abc", "", "99999999999999999999"]),
    "reason": st.sampled_from(["", "Price too high", "Aliens"]),
}


GOOD_ROWS = [
    {"id": "G1", "title": "Laptops", "owner": "rep1", "company": "Acme", "stage": "Qualification", "status": "open",
     "created": "2024-01-10", "closed": "", "amount": "1000", "reason": ""},
    {"id": "G2", "title": "Servers", "owner": "Ann Rep", "company": "acme", "stage": "Proposal", "status": "won",
     "created": "2024-01-11", "closed": "2024-02-01", "amount": "5,000.50", "reason": ""},
    {"id": "G3", "title": "Printers", "owner": "rep1", "company": "", "stage": "", "status": "lost",
     "created": "2024-01-12", "closed": "2024-02-02", "amount": "", "reason": "Price too high"},
]  # fmt: skip


def rarely(draw: st.DrawFn) -> bool:
    return draw(st.integers(0, 4)) == 4  # hypothesis favours small numbers: the rare case is the largest


@st.composite
def files(draw: st.DrawFn) -> tuple[bytes, str]:
    """A deals file: usually well-formed with some bad cells, sometimes broken in every way a file can be."""
    if rarely(draw):
        header = draw(st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=len(COLUMNS), unique=True))
    else:
        header = draw(st.permutations(COLUMNS))
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        good = draw(st.sampled_from(GOOD_ROWS))
        row = []
        for column in header:
            cell = good[column] if not rarely(draw) else draw(st.one_of(PLAUSIBLE[column], st.text(max_size=12)))
            if draw(st.integers(0, 60)) == 60:
                cell = "y" * draw(st.sampled_from([5_000, 200_000, 1_100_000]))  # huge, or beyond the cell limit
            row.append(cell)
        if rarely(draw):
            row = row[: draw(st.integers(0, len(row)))] if draw(st.booleans()) else [*row, "extra"]
        rows.append(row)
    written = io.StringIO()
    csv.writer(written, delimiter=draw(st.sampled_from([",", ";", "\t", "|"]))).writerows([header, *rows])
    text = written.getvalue()
    if rarely(draw):
        text = text.replace('"', "", draw(st.integers(1, 3)))  # unbalanced quotes
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1250", "latin-1"]))
    data = text.encode(encoding, errors="replace")
    if rarely(draw):
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        data = data[:position] + draw(st.binary(min_size=1, max_size=8)) + data[position:]  # broken bytes
    name = "deals.xlsx" if rarely(draw) else draw(st.sampled_from(["deals.csv", "deals.txt", "upload"]))
    return data, name


def state() -> tuple[int, int, int]:
    return Deal.objects.count(), DealStageChange.objects.count(), Company.objects.count()


@pytest.fixture
def known_records():
    rep = UserFactory(username="rep1", first_name="Ann", last_name="Rep")
    CompanyFactory(name="Acme", owner=rep)
    loss_reason("Price too high")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    file=files(),
    dry_run=st.booleans(),
    on_duplicate=st.sampled_from(["skip", "update"]),
    skip_bad_rows=st.booleans(),
)
def test_any_file_gives_a_report_and_never_a_partial_import(known_records, file, dry_run, on_duplicate, skip_bad_rows):
    data, name = file
    before = state()
    options = ImportOptions(dry_run=dry_run, on_duplicate=on_duplicate, skip_bad_rows=skip_bad_rows)
    report = import_file(io.BytesIO(data), mapping=DEALS, options=options, file_name=name)
    after = state()
    event(f"{report.status}, {report.totals()['created']} created")
    assert report.status in ("committed", "checked", "failed") and report.reason and "\n" not in report.reason
    created = report.totals()["created"]
    if report.status == "committed":
        assert after[0] - before[0] == created
        assert after[1] - before[1] >= created  # every new deal has its history
        if not skip_bad_rows:
            assert not report.problems.count("error")
    else:
        assert after == before
