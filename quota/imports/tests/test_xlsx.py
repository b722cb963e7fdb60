"""Zip bombs: a workbook that unpacks to more than an import reads is refused, whether its zip directory
says so (before openpyxl opens it) or lies (its parts are counted as they unpack).

The limit is lowered to 8 MB here so the bombs stay small and fast to build: 64 MB of letters.
"""

from __future__ import annotations

import io
import time
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from openpyxl import Workbook
from openpyxl.reader.excel import ExcelReader

from quota.cli import main
from quota.crm.models import Company
from quota.imports.engine import ImportOptions
from quota.imports.mapping import StepMapping
from quota.imports.services import import_file
from quota.imports.sources import Source, SourceError
from quota.imports.tests.helpers import xlsx_bomb
from quota.imports.xlsx import BoundedZipFile, WorkbookTooLarge, check_archive

pytestmark = pytest.mark.django_db

LIMIT = 8 * 1024 * 1024
COMPANIES = StepMapping.from_dict({"into": "companies", "fields": {"name": "Company", "country": "Country"}})


@pytest.fixture(autouse=True)
def limit(settings):
    settings.IMPORTS_MAX_UNPACKED_BYTES = LIMIT


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return xlsx_bomb(64 * 1024 * 1024)


@pytest.fixture(scope="module")
def lying_bomb() -> bytes:
    return xlsx_bomb(64 * 1024 * 1024, declared=2048)


def small_workbook() -> bytes:
    book = Workbook()
    book.active.append(["Company", "Country"])
    book.active.append(["Acme", "Poland"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_bomb_is_small_and_says_how_large_it_unpacks(bomb):
    assert len(bomb) < 1024 * 1024
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        assert sum(part.file_size for part in archive.infolist()) > 64 * 1024 * 1024


def test_a_declared_size_over_the_limit_is_refused_before_openpyxl_reads(bomb, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("openpyxl must not read a workbook the directory already refuses")

    monkeypatch.setattr(ExcelReader, "read", never)
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"says it unpacks to 64\.0\sMB, more than the 8\.0\sMB an import reads"):
        Source(io.BytesIO(bomb), name="bomb.xlsx")
    assert time.monotonic() - started < 5


def test_a_lying_directory_is_caught_while_unpacking(lying_bomb):
    with zipfile.ZipFile(io.BytesIO(lying_bomb)) as archive:
        check_archive(archive, LIMIT)  # the directory alone looks harmless
    started = time.monotonic()
    with pytest.raises(SourceError) as error:
        Source(io.BytesIO(lying_bomb), name="bomb.xlsx")
    assert "not a readable XLSX workbook" in str(error.value) and "\n" not in str(error.value)
    assert time.monotonic() - started < 5


def test_the_counter_stops_a_part_that_unpacks_past_the_limit():
    data = small_workbook()
    with BoundedZipFile(io.BytesIO(data), limit=LIMIT) as archive:
        assert archive.read("xl/workbook.xml").startswith(b"<")
        archive.limit = 100  # as if the directory had said far less than the parts hold
        with pytest.raises(WorkbookTooLarge, match="unpacks to more than"), archive.open("xl/workbook.xml") as part:
            part.read()


def test_a_workbook_within_the_limit_reads_as_before():
    source = Source(io.BytesIO(small_workbook()), name="companies.xlsx")
    assert source.info.header == ["Company", "Country"]
    assert list(source.rows()) == [(2, {"Company": "Acme", "Country": "Poland"})]


def test_an_import_of_a_bomb_fails_in_one_line_and_writes_nothing(bomb):
    report = import_file(io.BytesIO(bomb), mapping=COMPANIES, options=ImportOptions(), file_name="bomb.xlsx")
    assert not report.ok and "unpacks to" in report.reason and "\n" not in report.reason
    assert not Company.objects.exists()


@pytest.mark.parametrize("which", ["bomb", "lying_bomb"])
def test_quota_import_of_a_bomb_exits_non_zero_with_one_line(request, tmp_path, capsys, monkeypatch, which):
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(request.getfixturevalue(which))
    with pytest.raises(CommandError) as error:
        call_command("import", str(path), "--into", "companies", "--map", "Company=name")
    assert error.value.returncode == 1 and "\n" not in str(error.value)
    monkeypatch.setattr(connections, "close_all", lambda: None)  # the command closes them when it ends; the test goes on
    capsys.readouterr()
    assert main(["quota", "import", str(path), "--into", "companies", "--map", "Company=name"]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "bomb.xlsx" in lines[0], lines
    assert not Company.objects.exists()
