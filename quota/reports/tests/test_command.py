"""`quota report list | run | scheduler` and its one-line errors."""

import datetime as dt

import pytest
from django.core.management import CommandError
from openpyxl import load_workbook

from quota.reports.choices import DeliveryStatus, DeliveryTrigger
from quota.reports.models import Report, ReportDelivery
from quota.reports.services import report_create
from quota.reports.tests.helpers import report_fields
from quota.testing.commands import run_command


@pytest.fixture
def weekly(company):
    return report_create(by=company.director, recipients=[company.director], **report_fields(formats=["pdf", "xlsx"]))


def quota(*args) -> str:
    return run_command("report", *args)


def test_list_shows_name_owner_schedule_and_next_run(weekly):
    lines = quota("list").splitlines()
    assert lines[0].split() == ["key", "owner", "schedule", "next", "run"]
    assert lines[1].startswith("weekly-sales  diana  weekly on Monday at 07:00  ")
    assert weekly.next_run_at.strftime("%Y-%m-%d %H:%M") in lines[1]


def test_run_writes_the_file_without_sending(weekly, tmp_path, mailoutbox):
    out = tmp_path / "weekly.xlsx"
    assert quota("run", "weekly-sales", "--format", "xlsx", "--out", str(out)) == f"Wrote {out} ({out.stat().st_size:,} bytes).\n"
    assert "Summary" in load_workbook(out).sheetnames
    assert mailoutbox == [] and not ReportDelivery.objects.exists()


def test_run_send_mails_it_and_keeps_it_in_the_history(weekly, tmp_path, mailoutbox, company):
    out = tmp_path / "weekly.pdf"
    printed = quota("run", "weekly-sales", "--send", "--out", str(out))
    assert printed.startswith(f"Sent weekly-sales to {company.director.email}.\nWrote {out}")
    assert out.read_bytes().startswith(b"%PDF-")
    delivery = ReportDelivery.objects.get()
    assert (delivery.trigger, delivery.status) == (DeliveryTrigger.COMMAND, DeliveryStatus.SENT)
    assert len(mailoutbox) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "weekly-sale"], "There is no report 'weekly-sale' (known: weekly-sales); `quota report list` shows them"),
        (["run", "weekly-sales", "--format", "docx"], "--format must be pdf, xlsx or csv, not 'docx'"),
        (
            ["run", "weekly-sales", "--format", "csv", "--send"],
            "The report 'weekly-sales' is sent as pdf, xlsx, not csv; choose one of those with --format",
        ),
        (
            ["run", "weekly-sales", "--out", "/nonexistent/dir/x.pdf"],
            "Cannot write /nonexistent/dir/x.pdf: No such file or directory",
        ),
    ],
)
def test_errors_are_one_line(weekly, args, message):
    with pytest.raises(CommandError) as caught:
        quota(*args)
    assert str(caught.value) == message


def test_a_report_that_became_invalid_says_why(weekly, company):
    company.director.is_active = False
    company.director.save()
    with pytest.raises(CommandError) as caught:
        quota("run", "weekly-sales")
    assert str(caught.value).startswith("The report 'weekly-sales' cannot be rendered: ")
    assert "\n" not in str(caught.value)


def test_scheduler_once_sends_what_is_due(weekly, mailoutbox, django_capture_on_commit_callbacks):
    Report.objects.filter(pk=weekly.pk).update(next_run_at=dt.datetime(2025, 3, 10, 7, tzinfo=dt.UTC))
    with django_capture_on_commit_callbacks(execute=True):
        printed = quota("scheduler", "--once")
    assert "reports-run-due: 1" in printed.splitlines()[-1]
    assert len(mailoutbox) == 1
    assert quota("scheduler", "--once") == ""  # nothing due: quiet, for cron
