"""The scheduler sends each slot once, catches up after downtime with one delivery, and re-queues lost tasks."""

import datetime as dt

import pytest

from quota.reports.choices import DeliveryStatus, DeliveryTrigger
from quota.reports.models import Report, ReportDelivery
from quota.reports.scheduler import due_reports_run
from quota.reports.services import report_create
from quota.reports.tasks import deliver_report, run_due_reports
from quota.reports.tests.helpers import report_fields

UTC = dt.UTC
MONDAY_SLOT = dt.datetime(2025, 3, 10, 7, 0, tzinfo=UTC)


@pytest.fixture
def weekly(company):
    report = report_create(by=company.director, recipients=[company.director], **report_fields(formats=["csv"]))
    Report.objects.filter(pk=report.pk).update(next_run_at=MONDAY_SLOT)
    report.refresh_from_db()
    return report


def run(now, capture):
    with capture(execute=True):
        return due_reports_run(now=now)


def test_a_due_report_goes_out_once_per_slot(weekly, mailoutbox, django_capture_on_commit_callbacks):
    now = MONDAY_SLOT + dt.timedelta(seconds=30)
    (first,) = run(now, django_capture_on_commit_callbacks)
    delivery = ReportDelivery.objects.get(pk=first)
    assert (delivery.slot, delivery.trigger, delivery.status) == (MONDAY_SLOT, DeliveryTrigger.SCHEDULE, DeliveryStatus.SENT)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject == "Weekly sales: Last week, Month to date"
    assert mailoutbox[0].attachments[0][0] == "weekly-sales-2025-03-10.csv"
    weekly.refresh_from_db()
    assert weekly.next_run_at == MONDAY_SLOT + dt.timedelta(weeks=1)

    assert run(now, django_capture_on_commit_callbacks) == []  # the next pass: not due any more
    # A retried scheduler task that read the report before it moved: the slot's row already exists.
    Report.objects.filter(pk=weekly.pk).update(next_run_at=MONDAY_SLOT)
    assert run(now + dt.timedelta(seconds=5), django_capture_on_commit_callbacks) == []
    # A retried delivery task: the delivery is sent, so it does nothing.
    deliver_report.delay(first)
    assert ReportDelivery.objects.count() == 1
    assert len(mailoutbox) == 1


def test_after_downtime_only_the_latest_missed_slot_goes_out(weekly, mailoutbox, django_capture_on_commit_callbacks):
    Report.objects.filter(pk=weekly.pk).update(next_run_at=MONDAY_SLOT - dt.timedelta(weeks=1))
    woke = MONDAY_SLOT + dt.timedelta(weeks=1, days=2)  # the slots of 3, 10 and 17 March were missed
    (only,) = run(woke, django_capture_on_commit_callbacks)
    assert ReportDelivery.objects.get(pk=only).slot == MONDAY_SLOT + dt.timedelta(weeks=1)
    weekly.refresh_from_db()
    assert weekly.next_run_at == MONDAY_SLOT + dt.timedelta(weeks=2)  # past now
    assert run(woke + dt.timedelta(minutes=1), django_capture_on_commit_callbacks) == []
    assert len(mailoutbox) == 1


def test_a_paused_report_does_not_run(weekly, django_capture_on_commit_callbacks):
    Report.objects.filter(pk=weekly.pk).update(is_active=False)
    assert run(MONDAY_SLOT + dt.timedelta(hours=1), django_capture_on_commit_callbacks) == []


def test_a_delivery_whose_task_was_lost_is_queued_again(weekly, mailoutbox, django_capture_on_commit_callbacks):
    lost = ReportDelivery.objects.create(
        report=weekly, slot=MONDAY_SLOT, trigger=DeliveryTrigger.SCHEDULE, enqueued_at=MONDAY_SLOT
    )
    Report.objects.filter(pk=weekly.pk).update(next_run_at=MONDAY_SLOT + dt.timedelta(weeks=1))
    assert run(MONDAY_SLOT + dt.timedelta(minutes=2), django_capture_on_commit_callbacks) == []  # not long enough to call it lost
    assert run(MONDAY_SLOT + dt.timedelta(minutes=10), django_capture_on_commit_callbacks) == [lost.pk]
    lost.refresh_from_db()
    assert lost.status == DeliveryStatus.SENT
    assert len(mailoutbox) == 1


def test_the_beat_task_runs_the_scheduler(weekly, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        assert run_due_reports.delay().get() == 1
    assert len(mailoutbox) == 1
