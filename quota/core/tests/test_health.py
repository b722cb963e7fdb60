"""/healthz: each part's state as JSON, 503 only when the database is down."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from quota.core import health, periodic
from quota.core.services import heartbeat_record
from quota.kpi import rollups
from quota.kpi.models import RollupState
from quota.testing.factories import DealFactory, UserFactory
from quota.testing.outages import REDIS_DOWN, celery_broker, production_settings

pytestmark = pytest.mark.django_db


def test_the_embedded_default_is_ok_with_tasks_in_process(client, settings):
    response = client.get("/healthz")
    assert response.status_code == 200 and response["Cache-Control"].startswith("max-age=0")
    body = response.json()
    assert body["status"] == "ok"
    checks = body["checks"]
    assert checks["database"]["status"] == "ok" and checks["cache"] == {
        "status": "ok",
        "backend": "LocMemCache",
        "ms": checks["cache"]["ms"],
    }
    assert checks["broker"]["status"] == "in-process" and checks["worker"]["status"] == "in-process"
    assert checks["rollups"]["status"] == "ok"
    assert checks["worker"]["scheduler_last_seen"] is None  # `quota report scheduler` has not run
    settings.CELERY_BEAT_SCHEDULE = {}  # a pass with nothing to run: only its sign of life
    periodic.run_due()
    assert client.get("/healthz").json()["checks"]["worker"]["scheduler_last_seen"] is not None


def test_redis_down_is_degraded_but_up(client, settings):
    production = production_settings(REDIS_DOWN)
    settings.CACHES = production["CACHES"]
    with celery_broker(production["CELERY_BROKER_URL"]):
        response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded" and body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["cache"]["status"] == "degraded" and "refused" in body["checks"]["cache"]["error"].lower()
    assert body["checks"]["broker"]["status"] == "degraded"
    assert all(check["ms"] < 10_000 for check in body["checks"].values())  # each check is bounded (generously: CI is slow)


def test_the_database_down_is_503(client, monkeypatch):
    monkeypatch.setattr(health, "database", lambda: {"status": "down", "error": "OperationalError: connection refused"})
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down" and body["checks"]["worker"]["status"] == "unknown"
    assert body["checks"]["rollups"]["status"] == "unknown"


def test_the_worker_is_known_by_its_heartbeat():
    noon = dt.datetime(2025, 6, 2, 12, 0, tzinfo=dt.UTC)
    with celery_broker("memory://"), time_machine.travel(noon, tick=False):
        assert health.worker()["status"] == "degraded"  # never reported
        heartbeat_record("worker", at=timezone.now() - dt.timedelta(seconds=60), detail="celery@web1")
        answer = health.worker()
        assert answer["status"] == "ok" and answer["host"] == "celery@web1" and answer["seconds_ago"] == 60
        heartbeat_record("worker", at=timezone.now() - dt.timedelta(minutes=10), detail="celery@web1")
        assert health.worker()["status"] == "degraded"


def test_the_worker_heartbeat_task_records_only_from_a_real_worker():
    from quota.core.models import Heartbeat
    from quota.core.tasks import record_worker_heartbeat

    assert record_worker_heartbeat.apply().get() is False  # in process: vouches for no worker
    assert not Heartbeat.objects.filter(key="worker").exists()


def test_stale_rollups_are_reported_until_rebuilt(client):
    owner = UserFactory()
    DealFactory(owner=owner)
    rollups.rebuild()
    assert client.get("/healthz").json()["checks"]["rollups"]["stale"] == 0
    RollupState.objects.filter(source="deals").update(max_pk=-1)
    body = client.get("/healthz").json()
    assert body["status"] == "degraded" and body["checks"]["rollups"]["stale_sources"] == ["deals"]
    rollups.rebuild_stale()
    assert client.get("/healthz").json()["status"] == "ok"
