"""Import jobs whose worker died, or that no worker started, are stopped with the reason and can be started again."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from quota.crm.models import Company
from quota.imports import recovery, services
from quota.imports.models import ImportJob, ImportJobPhase, ImportJobState, ImportRun, ImportRunStatus
from quota.imports.tasks import fail_stuck_jobs
from quota.imports.tests.test_pages import COMPANIES, csv_bytes, job_of, mapping_post, upload

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2025, 6, 2, 12, 0, tzinfo=dt.UTC)
POSTGRESQL = connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def checked(client, django_user_model):
    """A companies file whose dry run passed (eager Celery ran it), ready to commit."""
    director = django_user_model.objects.create_user("dana", password="pw", role="director")
    client.force_login(director)
    with time_machine.travel(NOON, tick=False):
        job = job_of(upload(client, csv_bytes(COMPANIES)))
        client.post(reverse("imports:map", args=[job.pk]), mapping_post(job, {"Company": "name", "Web domain": "domain"}))
    job.refresh_from_db()
    assert job.phase == ImportJobPhase.CHECK and job.report["ok"]
    return job


def test_a_commit_no_worker_picked_up_is_stopped_then_started_again(
    client, checked, monkeypatch, django_capture_on_commit_callbacks
):
    lost = []
    monkeypatch.setattr("quota.imports.views.enqueue", lambda task, *args: lost.append(args))  # the broker lost it
    with time_machine.travel(NOON, tick=False):
        client.post(reverse("imports:commit", args=[checked.pk]))
    checked.refresh_from_db()
    assert lost == [(checked.pk,)] and checked.state == ImportJobState.WAITING

    with time_machine.travel(NOON + dt.timedelta(minutes=29), tick=False):
        assert fail_stuck_jobs.apply().get() == 0  # not yet: a busy worker may still come
    with time_machine.travel(NOON + dt.timedelta(minutes=31), tick=False):
        assert fail_stuck_jobs.apply().get() == 1
    checked.refresh_from_db()
    assert checked.state == ImportJobState.DONE and checked.restartable
    assert checked.stopped_reason.startswith("No worker started this import within 30 minutes")
    failed = ImportRun.objects.get()
    assert failed.status == ImportRunStatus.FAILED and failed.reason == checked.stopped_reason and checked.run == failed

    result = client.get(reverse("imports:result", args=[checked.pk])).content.decode()
    restart = reverse("imports:restart", args=[checked.pk])
    assert "This run was stopped." in result and restart in result and "Start again" in result
    assert restart in client.get(reverse("imports:run_detail", args=[failed.pk])).content.decode()

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):  # queued once the restart commits (eager: run here)
        response = client.post(restart)
    assert response.status_code == 302 and response["Location"] == reverse("imports:progress", args=[checked.pk])
    checked.refresh_from_db()
    assert checked.state == ImportJobState.DONE and checked.report["written"] and not checked.stopped_reason
    assert sorted(Company.objects.values_list("name", flat=True)) == ["Acme Ltd", "Globex"]
    assert checked.run.status == ImportRunStatus.COMMITTED and checked.worker == recovery.worker_identity()
    assert ImportRun.objects.count() == 2  # the stopped attempt stays in the history
    assert "Start again" not in client.get(reverse("imports:result", args=[checked.pk])).content.decode()


def running(job, *, worker, last_sign):
    ImportJob.objects.filter(pk=job.pk).update(
        phase=ImportJobPhase.COMMIT, state=ImportJobState.RUNNING, worker=worker, run_token="t1", heartbeat_at=last_sign
    )


def test_a_running_job_without_a_sign_of_life_is_stopped(checked):
    running(checked, worker="gone-host:4242", last_sign=NOON - dt.timedelta(minutes=9))
    with time_machine.travel(NOON, tick=False):
        assert recovery.jobs_fail_stuck() == []  # 9 minutes: still within the threshold
    with time_machine.travel(NOON + dt.timedelta(minutes=2), tick=False):
        assert recovery.jobs_fail_stuck() == [checked.pk]
    checked.refresh_from_db()
    assert checked.state == ImportJobState.DONE and "gone-host:4242" in checked.stopped_reason
    assert not checked.report["ok"] and checked.report["reason"] == checked.stopped_reason


def test_a_live_worker_of_this_machine_is_left_alone_where_it_cannot_beat(checked):
    running(checked, worker=recovery.worker_identity(), last_sign=NOON - dt.timedelta(hours=1))
    with time_machine.travel(NOON, tick=False):
        stopped = recovery.jobs_fail_stuck()
    # SQLite: no heartbeat can be written mid-import, so its live process vouches for it. PostgreSQL: it must beat.
    assert stopped == ([checked.pk] if POSTGRESQL else [])


def test_only_a_stopped_job_can_be_started_again(checked):
    with pytest.raises(ValidationError, match="Only an import that was stopped"):
        services.job_restart(job=checked, by=checked.by)


def test_a_worker_presumed_dead_that_finishes_keeps_its_real_result(checked, monkeypatch):
    services.job_queue(job=checked, phase=ImportJobPhase.COMMIT, by=checked.by)
    real_run_job = services._run_job

    def finishing_late(job, options):
        outcome = real_run_job(job, options)
        stored = ImportJob.objects.get(pk=job.pk)
        assert recovery._stop(recovery.Stuck(stored, "presumed dead"), timezone.now())  # the watchdog, meanwhile
        return outcome

    monkeypatch.setattr(services, "_run_job", finishing_late)
    services.job_run(checked.pk)
    checked.refresh_from_db()
    assert checked.report["written"] and not checked.stopped_reason and checked.run.status == ImportRunStatus.COMMITTED
    assert not ImportRun.objects.filter(status=ImportRunStatus.FAILED).exists()  # the guess left the history


def test_a_worker_whose_job_was_started_again_does_not_overwrite_it(checked, monkeypatch):
    services.job_queue(job=checked, phase=ImportJobPhase.CHECK, by=checked.by)
    real_run_job = services._run_job

    def restarted_meanwhile(job, options):
        outcome = real_run_job(job, options)
        ImportJob.objects.filter(pk=job.pk).update(run_token="another-run")
        return outcome

    monkeypatch.setattr(services, "_run_job", restarted_meanwhile)
    assert services.job_run(checked.pk) is None
    checked.refresh_from_db()
    assert checked.state == ImportJobState.RUNNING and checked.run_token == "another-run"


@pytest.mark.skipif(not POSTGRESQL, reason="heartbeats go through a second connection: PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_is_written_beside_the_import_and_notices_a_takeover(checked):
    running(checked, worker=recovery.worker_identity(), last_sign=NOON)
    heartbeat = recovery.Heartbeat(checked.pk, "t1", started=NOON)
    try:
        with time_machine.travel(NOON + dt.timedelta(seconds=10), tick=False):
            heartbeat()  # within HEARTBEAT_SECONDS: nothing written
        checked.refresh_from_db()
        assert checked.heartbeat_at == NOON
        with time_machine.travel(NOON + dt.timedelta(seconds=31), tick=False):
            heartbeat()
        checked.refresh_from_db()
        assert checked.heartbeat_at == NOON + dt.timedelta(seconds=31)
        ImportJob.objects.filter(pk=checked.pk).update(run_token="another-run")
        with time_machine.travel(NOON + dt.timedelta(seconds=62), tick=False), pytest.raises(recovery.JobTakenOver):
            heartbeat()
    finally:
        heartbeat.close()


@pytest.mark.skipif(POSTGRESQL, reason="SQLite cannot take a second writer during an import")
def test_on_sqlite_no_heartbeat_is_attempted(checked):
    heartbeat = recovery.Heartbeat(checked.pk, "t1", started=NOON)
    with time_machine.travel(NOON + dt.timedelta(minutes=5), tick=False):
        heartbeat()
    assert heartbeat.connection is None


def test_a_sign_of_life_that_cannot_be_written_does_not_stop_the_import(monkeypatch, caplog):
    from django.db import OperationalError

    def broken(self, now):
        raise OperationalError("the server closed the connection unexpectedly")

    monkeypatch.setattr(recovery, "heartbeats_possible", lambda using="default": True)
    monkeypatch.setattr(recovery.Heartbeat, "_beat", broken)
    heartbeat = recovery.Heartbeat(1, "t1", started=NOON)
    with time_machine.travel(NOON + dt.timedelta(minutes=1), tick=False):
        heartbeat()  # logged, not raised: the next beat tries again
    assert heartbeat.connection is None and "could not record a sign of life" in caplog.text
