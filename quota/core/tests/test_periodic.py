"""The embedded scheduler runs the periodic work declared for beat, each entry on its own schedule, once."""

import datetime as dt
import io

import pytest
from django.core.management import call_command

from quota.core import periodic
from quota.core.models import Heartbeat

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2025, 6, 2, 12, 0, tzinfo=dt.UTC)
SCHEDULE = {
    "every-minute": {"task": "quota.core.tasks.record_worker_heartbeat", "schedule": 60.0},
    "hourly": {"task": "quota.kpi.tasks.rebuild_stale_rollups", "schedule": 3600.0},
}


def names(ran):
    return [item.name for item in ran]


def test_every_entry_runs_when_due_and_only_then(settings):
    settings.CELERY_BEAT_SCHEDULE = SCHEDULE
    assert names(periodic.run_due(now=NOON)) == ["every-minute", "hourly"]  # never run: due
    assert names(periodic.run_due(now=NOON + dt.timedelta(seconds=30))) == []
    assert names(periodic.run_due(now=NOON + dt.timedelta(seconds=61))) == ["every-minute"]
    assert names(periodic.run_due(now=NOON + dt.timedelta(hours=1, seconds=1))) == ["every-minute", "hourly"]
    assert Heartbeat.objects.get(key="scheduler").at == NOON + dt.timedelta(hours=1, seconds=1)


def test_the_settings_declare_the_repairs_for_beat_and_the_embedded_scheduler(settings):
    tasks = {entry.task for entry in periodic.entries()}
    assert {
        "quota.reports.tasks.run_due_reports",
        "quota.kpi.tasks.rebuild_stale_rollups",
        "quota.imports.tasks.fail_stuck_jobs",
        "quota.core.tasks.record_worker_heartbeat",
        "quota.api.tasks.purge_idempotency_keys",
    } <= tasks
    assert all(periodic._task(name) is not None for name in tasks)  # every declared task exists


def test_an_entry_another_scheduler_took_is_not_run_twice(settings):
    settings.CELERY_BEAT_SCHEDULE = SCHEDULE
    periodic.run_due(now=NOON)
    entry = next(e for e in periodic.entries() if e.name == "hourly")
    later = NOON + dt.timedelta(hours=2)
    assert periodic._take(entry, NOON, later) is True
    assert periodic._take(entry, NOON, later) is False  # its last run moved: someone else has it


def test_an_unknown_task_is_skipped_with_a_log(settings, caplog):
    settings.CELERY_BEAT_SCHEDULE = {"typo": {"task": "quota.nope.tasks.missing", "schedule": 60.0}}
    assert periodic.run_due(now=NOON) == []
    assert "names the unknown task quota.nope.tasks.missing" in caplog.text


def test_the_command_prints_what_did_something_and_is_quiet_otherwise(settings):
    settings.CELERY_BEAT_SCHEDULE = {"reports-run-due": {"task": "quota.reports.tasks.run_due_reports", "schedule": 60.0}}
    out = io.StringIO()
    call_command("report", "scheduler", "--once", stdout=out)
    assert out.getvalue() == ""  # no report due: nothing to say, for cron
    out = io.StringIO()
    Heartbeat.objects.filter(key="periodic:reports-run-due").delete()  # due again
    call_command("report", "scheduler", "--once", verbosity=2, stdout=out)
    assert out.getvalue().rstrip().endswith("reports-run-due: 0")  # verbose: what ran, even when it did nothing
