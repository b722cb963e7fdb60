"""The import pages: upload, map (pre-filled), dry run report, background commit with progress, result."""

from __future__ import annotations

import csv
import functools
import io
import re
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from quota.accounts.models import Role
from quota.crm.models import Company, Deal
from quota.imports import forms as import_forms
from quota.imports import services, tasks
from quota.imports.models import ImportJob, ImportJobPhase, ImportJobState, ImportProblem, ImportRun, SavedMapping
from quota.imports.tests.helpers import xlsx_bomb
from quota.testing.factories import CompanyFactory, UserFactory

pytestmark = pytest.mark.django_db

COMPANIES = [["Company", "Web domain", "Country"], ["Acme Ltd", "acme.example", "Poland"], ["Globex", "globex.example", "Italy"]]


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    return settings.MEDIA_ROOT


@pytest.fixture
def director() -> object:
    return UserFactory(role=Role.DIRECTOR, first_name="Dana", last_name="Director")


@pytest.fixture
def browser(client: Client, director: object) -> Client:
    client.force_login(director)
    return client


def csv_bytes(rows: list[list[object]], *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue().encode(encoding)


def upload(client: Client, content: bytes, *, name: str = "file.csv", holds: str = "into:companies", **extra: str):
    data = {"file": SimpleUploadedFile(name, content), "holds": holds, "encoding": "", "delimiter": "", **extra}
    return client.post(reverse("imports:start"), data)


def job_of(response) -> ImportJob:
    pk = int(re.search(r"/imports/(\d+)/", response["Location"]).group(1))
    return ImportJob.objects.get(pk=pk)


def mapping_post(job: ImportJob, choices: dict[str, str], **extra: str) -> dict[str, str]:
    data = {f"column_{i}": choices.get(column, "") for i, column in enumerate(job.header)}
    return {"on_duplicate": "skip", "save_as": "", **data, **extra}


def initial_choices(client: Client, job: ImportJob) -> dict[str, str]:
    """The field each column's select has selected on the mapping page."""
    page = client.get(reverse("imports:map", args=[job.pk])).content.decode()
    chosen = {}
    for i, column in enumerate(job.header):
        select = re.search(rf'<select name="column_{i}".*?</select>', page, re.S).group(0)
        selected = re.search(r'<option value="([^"]*)" selected', select)
        chosen[column] = selected.group(1) if selected else ""
    return chosen


def run_dry(client: Client, job: ImportJob, choices: dict[str, str], **extra: str):
    response = client.post(reverse("imports:map", args=[job.pk]), mapping_post(job, choices, **extra), follow=True)
    assert response.status_code == 200
    return response


# ---------------------------------------------------------------------------------------- the flow


def test_upload_map_dry_run_commit_and_reimport_creates_nothing_twice(browser: Client, director) -> None:
    response = upload(browser, csv_bytes(COMPANIES), name="companies.csv")
    assert response.status_code == 302
    job = job_of(response)
    assert job.header == ["Company", "Web domain", "Country"] and job.rows_total == 2
    assert Path(job.file.path).is_file()

    # Guessed from the fields' names and labels; the samples are shown.
    page = browser.get(reverse("imports:map", args=[job.pk]))
    assert "Acme Ltd" in page.content.decode()
    assert initial_choices(browser, job) == {"Company": "", "Web domain": "domain", "Country": "country"}

    choices = {"Company": "name", "Web domain": "domain", "Country": "country"}
    report = run_dry(browser, job, choices)
    assert report.redirect_chain[-1][0] == reverse("imports:report", args=[job.pk])
    text = report.content.decode()
    assert "The dry run found nothing that stops the import." in text
    assert Company.objects.count() == 0  # a dry run writes nothing
    job.refresh_from_db()
    assert job.report["totals"]["created"] == 2 and job.phase == ImportJobPhase.CHECK

    result = browser.post(reverse("imports:commit", args=[job.pk]), follow=True)
    assert result.redirect_chain[-1][0] == reverse("imports:result", args=[job.pk])
    assert "Imported." in result.content.decode()
    assert sorted(Company.objects.values_list("name", "domain", "country")) == [
        ("Acme Ltd", "acme.example", "Poland"),
        ("Globex", "globex.example", "Italy"),
    ]
    job.refresh_from_db()
    run = ImportRun.objects.get()
    assert job.run == run and run.created == 2 and run.by == director and run.status == "committed"
    assert reverse("imports:run_detail", args=[run.pk]) in result.content.decode()
    history = browser.get(reverse("imports:run_list")).content.decode()
    assert "companies.csv" in history

    # A second commit of the same job is refused.
    again = browser.post(reverse("imports:commit", args=[job.pk]), follow=True)
    assert "imported already" in again.content.decode()

    # The same file again: the mapping is remembered, and the import creates nothing.
    second = job_of(upload(browser, csv_bytes(COMPANIES), name="companies-again.csv"))
    assert initial_choices(browser, second) == choices
    run_dry(browser, second, choices)
    second.refresh_from_db()
    assert second.report["totals"]["skipped"] == 2 and second.report["totals"]["created"] == 0
    browser.post(reverse("imports:commit", args=[second.pk]))
    assert Company.objects.count() == 2


def test_update_on_duplicate_merges_the_files_values(browser: Client) -> None:
    CompanyFactory(name="Acme Ltd", country="")
    job = job_of(upload(browser, csv_bytes(COMPANIES)))
    run_dry(browser, job, {"Company": "name", "Country": "country"}, on_duplicate="update")
    browser.post(reverse("imports:commit", args=[job.pk]))
    assert Company.objects.get(name="Acme Ltd").country == "Poland"
    assert Company.objects.count() == 2


def test_named_mapping_is_saved_and_offered(browser: Client) -> None:
    job = job_of(upload(browser, csv_bytes(COMPANIES)))
    run_dry(browser, job, {"Company": "name", "Country": "country"}, save_as="Customer list")
    saved = SavedMapping.objects.get(name="Customer list")
    assert not saved.automatic and saved.mapping["fields"] == {"name": "Company", "country": "Country"}
    other = job_of(upload(browser, csv_bytes([["Company", "Country", "Notes"], ["Initech", "Spain", "x"]])))
    page = browser.get(reverse("imports:map", args=[other.pk])).content.decode()
    assert "Customer list" in page
    used = browser.get(reverse("imports:map", args=[other.pk]), {"use": saved.pk}).content.decode()
    assert re.search(r'name="column_0".*?<option value="name" selected', used, re.S)


def test_dry_run_reports_every_row_problem_with_pages(browser: Client) -> None:
    rows = [["Title", "Value"]] + [[f"Deal {n}", "lots" if n % 2 else "100"] for n in range(250)]
    job = job_of(upload(browser, csv_bytes(rows), holds="into:deals"))
    report = run_dry(browser, job, {"Title": "title", "Value": "amount"})
    text = report.content.decode()
    assert "The file cannot be imported as it is." in text
    assert "Import now" not in text
    job.refresh_from_db()
    errors = ImportProblem.objects.filter(job=job, severity="error")
    assert errors.count() == 125 == job.report["totals"]["rejected"]
    first = errors.order_by("row").first()
    assert (first.row, first.column, first.value) == (3, "Value", "lots")
    assert "expected a number" in first.message
    second_page = browser.get(reverse("imports:report", args=[job.pk]), {"severity": "error", "page": 2}).content.decode()
    # Rows 3, 5, 7, ... are bad: the second page starts with the 101st, row 203.
    assert "Page 2" in second_page and "<td>203</td>" in second_page and "<td>201</td>" not in second_page
    # HTMX paging swaps the table only.
    partial = browser.get(
        reverse("imports:report", args=[job.pk]),
        {"severity": "error", "page": 2},
        headers={"HX-Request": "true", "HX-Target": "record-table"},
    ).content.decode()
    assert partial.lstrip().startswith('<div id="record-table"') and "<td>203</td>" in partial
    # Committing is refused until a dry run passes; nothing is written.
    refused = browser.post(reverse("imports:commit", args=[job.pk]), follow=True)
    assert "Run a dry run without errors" in refused.content.decode()
    assert Deal.objects.count() == 0 and not ImportRun.objects.exists()


def test_commit_is_all_or_nothing_when_a_row_fails(browser: Client) -> None:
    acme = CompanyFactory(name="Acme Ltd")
    CompanyFactory(name="Globex")
    rows = [["Title", "Customer"], ["One", "Globex"], ["Two", "Acme Ltd"], ["Three", "Globex"]]
    job = job_of(upload(browser, csv_bytes(rows), holds="into:deals"))
    run_dry(browser, job, {"Title": "title", "Customer": "company"})
    job.refresh_from_db()
    assert job.report["ok"]
    acme.delete()  # between the dry run and the commit, row 3's company goes away
    result = browser.post(reverse("imports:commit", args=[job.pk]), follow=True).content.decode()
    assert "Nothing was imported." in result
    assert Deal.objects.count() == 0
    run = ImportRun.objects.get()
    assert run.status == "failed" and "nothing was imported" in run.reason
    problem = ImportProblem.objects.get(job=job, severity="error")
    assert (problem.row, problem.column, problem.value) == (3, "Customer", "Acme Ltd")


# ---------------------------------------------------------------------------------------- progress


def test_progress_is_polled_until_done_then_redirects(browser: Client) -> None:
    job = job_of(upload(browser, csv_bytes(COMPANIES)))
    browser.post(reverse("imports:map", args=[job.pk]), mapping_post(job, {"Company": "name"}))
    job.refresh_from_db()
    # As a worker would see it: queued and half done.
    ImportJob.objects.filter(pk=job.pk).update(phase=ImportJobPhase.COMMIT, state=ImportJobState.RUNNING)
    job.refresh_from_db()
    cache.set(services._progress_key(job), 1)
    page = browser.get(reverse("imports:progress", args=[job.pk]))
    text = page.content.decode()
    assert page.status_code == 200 and 'hx-trigger="every 1s"' in text
    assert '<progress max="2" value="1"' in text and "1 of 2 rows processed" in text
    poll = browser.get(reverse("imports:progress", args=[job.pk]), headers={"HX-Request": "true"})
    assert poll.status_code == 200 and poll.content.decode().lstrip().startswith('<div id="import-progress"')
    # The mapping page waits for the running job.
    assert browser.get(reverse("imports:map", args=[job.pk]))["Location"] == reverse("imports:progress", args=[job.pk])

    ImportJob.objects.filter(pk=job.pk).update(state=ImportJobState.DONE)
    done = browser.get(reverse("imports:progress", args=[job.pk]), headers={"HX-Request": "true"})
    assert done.status_code == 204 and done["HX-Redirect"] == reverse("imports:result", args=[job.pk])
    assert browser.get(reverse("imports:progress", args=[job.pk]))["Location"] == reverse("imports:result", args=[job.pk])


def test_engine_reports_progress_per_batch(browser: Client, monkeypatch) -> None:
    monkeypatch.setattr(services, "ImportOptions", functools.partial(services.ImportOptions, batch_rows=500))
    rows = [["Company"]] + [[f"Company {n}"] for n in range(1200)]
    rows[0].append("Country")
    for row in rows[1:]:
        row.append("Poland")
    job = job_of(upload(browser, csv_bytes(rows)))
    seen: list[int] = []
    original = cache.set

    def spy(key, value, *args, **kwargs):
        if key == services._progress_key(job):
            seen.append(value)
        return original(key, value, *args, **kwargs)

    cache.set = spy  # type: ignore[method-assign]
    try:
        run_dry(browser, job, {"Company": "name", "Country": "country"})
    finally:
        cache.set = original  # type: ignore[method-assign]
    assert seen == [0, 500, 1000, 1200]


# ---------------------------------------------------------------------------------------- bad files


def assert_refused(response, message: str) -> None:
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()


def test_empty_file_is_refused(browser: Client, media: Path) -> None:
    assert_refused(upload(browser, b""), "The submitted file is empty.")
    assert_refused(upload(browser, b"\n\n"), "the file is empty: there is no header row")
    assert_refused(upload(browser, csv_bytes([["Company", "Country"]])), "has a header but no rows")
    assert not media.exists() or not any(media.rglob("*.csv"))


def test_too_big_file_is_refused(browser: Client, monkeypatch) -> None:
    monkeypatch.setattr(import_forms, "MAX_UPLOAD_BYTES", 100)
    assert_refused(upload(browser, csv_bytes(COMPANIES * 10)), "the pages take files up to 100")


def test_wrong_delimiter_and_encoding_get_a_clear_message(browser: Client) -> None:
    semicolons = csv_bytes(COMPANIES, delimiter=";")
    assert_refused(upload(browser, semicolons, delimiter=","), "Only one column was found")
    latin = csv_bytes([["Company", "City"], ["Łódź Sp. z o.o.", "Łódź"]], encoding="cp1250")
    assert_refused(upload(browser, latin, encoding="utf-8"), "not valid utf-8 text")
    assert_refused(upload(browser, b"PK\x03\x04 not really a workbook", name="data.xlsx"), "not a readable XLSX workbook")
    assert_refused(upload(browser, b"%PDF-1.4", name="report.pdf"), "Upload a CSV or XLSX file")
    # Detected, it is read as Central European and imported with a warning.
    response = upload(browser, latin)
    assert response.status_code == 302
    job = job_of(response)
    assert job.samples[0]["Company"] == "Łódź Sp. z o.o."


def test_preset_that_does_not_fit_the_file_is_refused(browser: Client) -> None:
    assert_refused(upload(browser, csv_bytes(COMPANIES), holds="preset:pipedrive"), "are not those of a Pipedrive export")


# ---------------------------------------------------------------------------------------- who


@pytest.mark.parametrize("role", [Role.REP, Role.MANAGER, Role.VIEWER, Role.MARKETING])
def test_only_administrators_and_directors_reach_the_pages(client: Client, director, role: str) -> None:
    job = services.job_create(file=SimpleUploadedFile("c.csv", csv_bytes(COMPANIES)), holds="into:companies", by=director)
    client.force_login(UserFactory(role=role))
    for url in (
        reverse("imports:start"),
        reverse("imports:run_list"),
        reverse("imports:map", args=[job.pk]),
        reverse("imports:progress", args=[job.pk]),
        reverse("imports:report", args=[job.pk]),
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("imports:commit", args=[job.pk])).status_code == 403
    assert client.post(reverse("imports:start"), {"holds": "into:companies"}).status_code == 403
    home = client.get(reverse("crm:company_list")).content.decode()
    assert reverse("imports:start") not in home


def test_directors_see_the_import_entry(browser: Client) -> None:
    page = browser.get(reverse("crm:company_list")).content.decode()
    assert f'href="{reverse("imports:start")}"' in page


def test_anonymous_is_sent_to_login(client: Client) -> None:
    response = client.get(reverse("imports:start"))
    assert response.status_code == 302 and "login" in response["Location"]


# -- pinned query counts: the history and a report cost the same whatever they list ----------------------------

PINNED_QUERIES = {"runs": 5, "report": 6}


def test_the_run_history_costs_the_same_queries_for_two_runs_or_twenty(browser, director):
    from quota.testing.views import queries_for

    def add_runs(count: int) -> None:
        ImportRun.objects.bulk_create(ImportRun(title=f"Run {i}", status="committed", by=director) for i in range(count))

    add_runs(2)
    few = queries_for(browser, reverse("imports:run_list"))
    add_runs(18)
    assert queries_for(browser, reverse("imports:run_list")) == few == PINNED_QUERIES["runs"]


def test_a_dry_run_report_costs_the_same_queries_for_few_problems_or_many(browser):
    from quota.testing.views import queries_for

    def report_with_problems(rows: int) -> str:
        deals = [["Title", "Value"]] + [[f"Deal {n}", "lots"] for n in range(rows)]
        job = job_of(upload(browser, csv_bytes(deals), holds="into:deals"))
        run_dry(browser, job, {"Title": "title", "Value": "amount"})
        assert ImportProblem.objects.filter(job=job).count() >= rows
        return reverse("imports:report", args=[job.pk])

    few = queries_for(browser, report_with_problems(2))
    assert queries_for(browser, report_with_problems(40)) == few == PINNED_QUERIES["report"]


# ---------------------------------------------------------------------------------------- limits (issue #12)


def assert_nothing_kept(media: Path) -> None:
    assert not ImportJob.objects.exists() and not Company.objects.exists()
    assert not media.exists() or not any(path.is_file() for path in media.rglob("*"))


def test_a_csv_with_a_nul_byte_is_refused_with_its_line(browser: Client, media: Path) -> None:
    content = b"Company,Country\nAcme Ltd,Poland\nNul\x00Corp,Italy\n"
    assert_refused(upload(browser, content), "line 3 holds a NUL character")
    assert_nothing_kept(media)


def test_a_zip_bomb_is_refused_in_the_upload_request_from_its_directory(browser: Client, media: Path, settings, monkeypatch):
    settings.IMPORTS_MAX_UNPACKED_BYTES = 8 * 1024 * 1024
    monkeypatch.setattr(tasks.read_import_file, "delay", lambda job_id: pytest.fail("the worker must not get a refused file"))
    assert_refused(upload(browser, xlsx_bomb(64 * 1024 * 1024), name="bomb.xlsx"), "says it unpacks to 64.0")
    assert_nothing_kept(media)


def test_a_zip_bomb_with_a_lying_directory_is_refused_by_the_worker(browser: Client, media: Path, settings) -> None:
    settings.IMPORTS_MAX_UNPACKED_BYTES = 8 * 1024 * 1024
    assert_refused(upload(browser, xlsx_bomb(64 * 1024 * 1024, declared=2048), name="bomb.xlsx"), "not a readable XLSX")
    assert_nothing_kept(media)


def test_the_upload_request_only_stores_the_file_and_the_worker_reads_it(browser: Client, media: Path, monkeypatch) -> None:
    queued: list[int] = []
    monkeypatch.setattr(tasks.read_import_file, "delay", queued.append)  # a worker elsewhere, not yet started
    response = upload(browser, b"Company,Country\nAcme Ltd,Poland\nNul\x00Corp,Italy\n")
    job = job_of(response)
    assert queued == [job.pk] and job.busy and job.header == [] and Path(job.file.path).is_file()
    progress = reverse("imports:progress", args=[job.pk])
    assert browser.get(reverse("imports:map", args=[job.pk]))["Location"] == progress
    assert "Reading the file" in browser.get(progress).content.decode()

    services.job_read(job.pk)  # the worker
    job.refresh_from_db()
    assert not job.busy and not job.file and not any(path.is_file() for path in media.rglob("*"))
    page = browser.get(reverse("imports:map", args=[job.pk]))
    assert page.status_code == 422 and "line 3 holds a NUL character" in page.content.decode()
    posted = browser.post(reverse("imports:map", args=[job.pk]), {"on_duplicate": "skip", "column_0": "name"})
    assert posted.status_code == 422 and not Company.objects.exists()
    assert "Cannot be read" in browser.get(reverse("imports:start")).content.decode()
    assert services.job_read(job.pk) is None  # delivered twice, read once


def test_a_file_wider_than_the_mapping_form_can_post_is_refused_at_upload(browser: Client, media: Path) -> None:
    header = [f"Column {n}" for n in range(10_000)]
    response = upload(browser, csv_bytes([header, ["x"] * 10_000]))
    assert_refused(response, "the file has 10,000 columns; an import takes at most 500")
    assert_nothing_kept(media)


def test_the_widest_file_allowed_is_mapped_and_checked(browser: Client, settings) -> None:
    assert services.max_columns() == 500 and settings.DATA_UPLOAD_MAX_NUMBER_FIELDS >= 500 + services.MAPPING_FORM_FIELDS
    header = ["Company", "Country"] + [f"Extra {n}" for n in range(498)]
    job = job_of(upload(browser, csv_bytes([header, ["Acme Ltd", "Poland"] + ["x"] * 498])))
    assert len(job.header) == 500
    report = run_dry(browser, job, {"Company": "name", "Country": "country"})
    assert "The dry run found nothing that stops the import." in report.content.decode()
    job.refresh_from_db()
    assert job.report["totals"]["created"] == 1 and not Company.objects.exists()


def test_the_column_limit_never_exceeds_what_a_mapping_form_can_post(settings) -> None:
    settings.IMPORTS_MAX_COLUMNS = 5_000
    assert services.max_columns() == settings.DATA_UPLOAD_MAX_NUMBER_FIELDS - services.MAPPING_FORM_FIELDS
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = None
    assert services.max_columns() == 5_000
