"""One delivery: progress as it renders, files kept, sent once whatever happens to the workers running it."""

import datetime as dt

import pytest
from django.utils import timezone

from quota.reports import deliveries
from quota.reports.choices import DeliveryStatus, DeliveryTrigger
from quota.reports.deliveries import delivery_run
from quota.reports.models import ReportDelivery
from quota.reports.renderers import RENDERERS, Renderer
from quota.reports.services import report_create, report_send_now
from quota.reports.tests.helpers import report_fields


@pytest.fixture
def weekly(company):
    return report_create(by=company.manager_north, recipients=[company.manager_north, company.rep_north], **report_fields())


@pytest.fixture
def delivery(weekly):
    return ReportDelivery.objects.create(report=weekly, trigger=DeliveryTrigger.MANUAL)


def test_send_now_renders_keeps_the_files_and_mails_them(weekly, company, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        delivery = report_send_now(report=weekly, by=company.manager_north)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.progress, delivery.attempts) == (DeliveryStatus.SENT, 100, 1)
    assert delivery.recipients == [company.manager_north.email, company.rep_north.email]
    assert [fmt for fmt, _file in delivery.files] == ["pdf", "xlsx", "csv"]
    with delivery.pdf_file.open("rb") as stored:
        assert stored.read(5) == b"%PDF-"
    (message,) = mailoutbox
    assert message.to == delivery.recipients
    assert [name.rsplit(".", 1)[1] for name, _data, _type in message.attachments] == ["pdf", "xlsx", "csv"]
    assert "Won revenue (sales volume):" in message.body


def test_progress_is_recorded_step_by_step(delivery, monkeypatch):
    seen = []
    original = deliveries.Heartbeat.__call__

    def spy(self, percent, step, **fields):
        original(self, percent, step, **fields)
        row = ReportDelivery.objects.get(pk=self.delivery_id)  # committed for the page to read
        seen.append((row.progress, row.step, row.status))

    monkeypatch.setattr(deliveries.Heartbeat, "__call__", spy)
    delivery_run(delivery_id=delivery.pk)
    percents = [percent for percent, _step, _status in seen]
    assert percents == sorted(percents) and percents[-1] == 100
    steps = [step for _percent, step, _status in seen]
    assert {"Evaluating KPIs for Last week", "Reading tables", "Rendering the PDF", "Sending the e-mail", "Sent"} <= set(steps)
    assert seen[-2][2] == DeliveryStatus.SENDING and seen[-1][2] == DeliveryStatus.SENT


def test_a_sent_delivery_is_not_sent_again(delivery, mailoutbox):
    delivery_run(delivery_id=delivery.pk)
    assert delivery_run(delivery_id=delivery.pk).retry_in is None
    assert len(mailoutbox) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1


def test_a_live_claim_makes_a_redelivered_task_wait(delivery, mailoutbox):
    ReportDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.RUNNING, lease_token="other-worker", lease_until=timezone.now() + dt.timedelta(seconds=60)
    )
    result = delivery_run(delivery_id=delivery.pk)
    assert 55 < result.retry_in <= 61
    assert mailoutbox == []


def test_a_lapsed_claim_is_taken_over_and_sent_once(delivery, mailoutbox):
    ReportDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.RUNNING, lease_token="dead-worker", lease_until=timezone.now() - dt.timedelta(seconds=1), attempts=1
    )
    delivery_run(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)
    assert len(mailoutbox) == 1


def test_a_delivery_interrupted_while_sending_is_not_sent_twice(delivery, mailoutbox):
    ReportDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, lease_token="dead-worker", lease_until=timezone.now() - dt.timedelta(seconds=1)
    )
    delivery_run(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert "may have gone out" in delivery.error
    assert mailoutbox == []


def test_a_worker_that_lost_its_claim_stops_before_sending(delivery, mailoutbox, monkeypatch):
    def taken_over(content):
        ReportDelivery.objects.filter(pk=delivery.pk).update(lease_token="another-worker")
        return b"%PDF-"

    monkeypatch.setitem(RENDERERS, "pdf", Renderer(taken_over, "application/pdf"))
    assert delivery_run(delivery_id=delivery.pk).retry_in is None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.lease_token) == (DeliveryStatus.RUNNING, "another-worker")
    assert mailoutbox == []


def test_a_refusing_mail_server_is_tried_again_then_given_up(delivery, settings):
    settings.EMAIL_BACKEND = "quota.reports.tests.backends.RefusingBackend"
    settings.REPORTS_SEND_ATTEMPTS = 2
    assert delivery_run(delivery_id=delivery.pk).retry_in == 60
    delivery.refresh_from_db()
    assert (delivery.status, delivery.lease_token) == (DeliveryStatus.QUEUED, "")
    assert "refused" in delivery.error
    assert delivery_run(delivery_id=delivery.pk).retry_in is None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 2)


def test_a_report_no_longer_valid_when_due_fails_with_the_reason(delivery, company, mailoutbox):
    company.rep_north.team = company.south  # moved: may no longer see what the north's report shows
    company.rep_north.save()
    delivery_run(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.error.startswith("The report cannot be sent as defined:")
    assert str(company.rep_north) in delivery.error
    assert mailoutbox == []


def test_a_broken_renderer_fails_the_delivery_with_the_error(delivery, monkeypatch, mailoutbox):
    def broken(content):
        raise RuntimeError("no fonts")

    monkeypatch.setitem(RENDERERS, "pdf", Renderer(broken, "application/pdf"))
    delivery_run(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.error == "The report could not be made: RuntimeError: no fonts"
    assert mailoutbox == []
