"""A real Celery worker on the real Redis delivers a scheduled report once, even when killed mid-task.

The worker is a subprocess (`celery worker --pool=solo`) on a queue of its own and a Redis database
of its own (12, or 12 + the xdist worker number), against the test database: rows are committed
(transactional test) so both processes see them. E-mails go to files, so the test can count them.

Only on PostgreSQL: pytest-django's SQLite test database lives in memory, where no other process
can reach it. CI runs the suite on both.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection
from django.utils import timezone

from quota.reports.choices import DeliveryStatus
from quota.reports.models import Report, ReportDelivery
from quota.reports.services import report_create
from quota.reports.slots import latest_slot_at_or_before
from quota.reports.tests.helpers import report_fields

REDIS_HOST = "127.0.0.1:6379"
TIMEOUT = 40.0


def _database_url(db: dict) -> str:
    """The test database pytest-django created, for the worker process."""
    credentials = quote(db["USER"] or "postgres") + (f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{quote(db['NAME'])}"


def _redis_db() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return 12 + int(worker[2:] or 0)


def _redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(f"redis://{REDIS_HOST}/{_redis_db()}", socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="the worker needs a test database another process can reach: PostgreSQL (the SQLite test DB is in memory)",
    ),
    pytest.mark.skipif(not _redis_reachable(), reason=f"Redis is not reachable on {REDIS_HOST}"),
    pytest.mark.django_db(transaction=True),
]


@dataclass
class Workers:
    """Starts Celery workers for one test, sends them tasks, and reads what they did."""

    tmp: Path
    queue: str = field(default_factory=lambda: f"quota-test-{uuid.uuid4().hex[:10]}")
    started: list[subprocess.Popen] = field(default_factory=list)

    @property
    def redis_url(self) -> str:
        return f"redis://{REDIS_HOST}/{_redis_db()}"

    @property
    def mail_dir(self) -> Path:
        return self.tmp / "mail"

    def log(self, number: int) -> Path:
        return self.tmp / f"worker-{number}.log"

    def start(self, *, render_pause: float = 0.0) -> subprocess.Popen:
        db = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "quota.reports.tests.worker_settings",
            "SECRET_KEY": "worker-test",
            "DATABASE_URL": _database_url(db),
            "REDIS_URL": self.redis_url,
            "QUOTA_TEST_QUEUE": self.queue,
            "QUOTA_TEST_VISIBILITY_TIMEOUT": "2",
            "QUOTA_TEST_LEASE_SECONDS": "2",
            "QUOTA_TEST_MEDIA_ROOT": str(self.tmp / "media"),
            "QUOTA_TEST_MAIL_DIR": str(self.mail_dir),
            "QUOTA_TEST_RENDER_PAUSE": str(render_pause),
        }
        command = [
            *(sys.executable, "-m", "celery", "-A", "quota.reports.tests.worker_app", "worker"),
            *("--pool=solo", "--concurrency=1", "-Q", self.queue, "-n", f"{self.queue}-{len(self.started)}@%h"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"),
        ]
        log = self.log(len(self.started)).open("w")
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append(process)
        wait_until(lambda: "ready." in self.log(len(self.started) - 1).read_text(), "the worker to start", process)
        return process

    def send(self, task: str, *args: object) -> None:
        # Not the current app: shared tasks of later tests must keep resolving to Quota's own.
        producer = Celery("quota-test-producer", broker=self.redis_url, set_as_current=False)
        with producer.connection_for_write() as conn:
            producer.send_task(f"quota.reports.tasks.{task}", args=args, queue=self.queue, connection=conn)

    def succeeded(self, task: str) -> int:
        """How many `task` runs ended normally, in every worker's log."""
        pattern = re.compile(rf"Task quota\.reports\.tasks\.{task}\[[^\]]+\] succeeded")
        return sum(len(pattern.findall(self.log(n).read_text())) for n in range(len(self.started)))

    def emails(self) -> list[str]:
        """Subjects of the messages the workers sent (the file backend writes one file per connection)."""
        files = sorted(self.mail_dir.glob("*.log")) if self.mail_dir.exists() else []
        return [
            line[len("Subject: ") :] for path in files for line in path.read_text().splitlines() if line.startswith("Subject: ")
        ]

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL: the worker gets no chance to acknowledge or give back its task."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                self.kill(process)

    def redis_keys(self) -> list[bytes]:
        import redis

        return redis.Redis.from_url(self.redis_url).keys("*")


def wait_until(
    condition: Callable[[], bool], what: str, process: subprocess.Popen | None = None, timeout: float = TIMEOUT
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if process is not None and process.poll() is not None:
            raise AssertionError(f"The worker exited with {process.returncode} while waiting for {what}")
        time.sleep(0.1)
    raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture
def workers(tmp_path) -> Iterator[Workers]:
    import redis

    control = Workers(tmp_path)
    client = redis.Redis.from_url(control.redis_url)
    client.flushdb()  # this test's own database: no message of an earlier run is restored into it
    try:
        yield control
    finally:
        control.stop_all()  # before the test database is flushed: the worker holds connections to it
        client.flushdb()
        for number in range(len(control.started)):
            print(f"--- worker {number} ---\n{control.log(number).read_text()[-4000:]}")


@pytest.fixture
def due_report(company) -> Report:
    """A daily report whose slot has just passed: the next scheduler run sends it."""
    report = report_create(
        by=company.director, recipients=[company.director], **report_fields(frequency="daily", formats=["csv"])
    )
    slot = latest_slot_at_or_before(report.schedule, timezone.now())
    Report.objects.filter(pk=report.pk).update(next_run_at=slot)
    return report


def test_a_real_worker_sends_a_scheduled_report_once(workers, due_report):
    workers.start()
    workers.send("run_due_reports")
    workers.send("run_due_reports")  # a second beat tick (or a retried task): the slot is taken, nothing more
    wait_until(lambda: ReportDelivery.objects.filter(status=DeliveryStatus.SENT).exists(), "the report to be sent")
    delivery = ReportDelivery.objects.get()
    workers.send("deliver_report", delivery.pk)  # a redelivered task for a sent delivery does nothing
    wait_until(
        lambda: workers.succeeded("deliver_report") == 2 and workers.succeeded("run_due_reports") == 2, "every task to run"
    )

    assert ReportDelivery.objects.count() == 1
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.progress, delivery.recipients) == (1, 100, [due_report.owner.email])
    assert workers.emails() == ["Weekly sales: Last week, Month to date"]
    due_report.refresh_from_db()
    assert due_report.next_run_at > timezone.now()


def test_a_task_killed_with_its_worker_is_redelivered_and_still_sends_once(workers, due_report):
    first = workers.start(render_pause=60)  # long enough to be killed in
    workers.send("run_due_reports")
    wait_until(
        lambda: ReportDelivery.objects.filter(status=DeliveryStatus.RUNNING, step__startswith="Rendering").exists(),
        "the first worker to be rendering",
        first,
    )
    workers.kill(first)
    killed = ReportDelivery.objects.get()
    assert (killed.status, killed.attempts) == (DeliveryStatus.RUNNING, 1)
    assert workers.emails() == []

    workers.start()  # Redis hands the unacknowledged task to the new worker once its visibility timeout has passed
    wait_until(lambda: ReportDelivery.objects.filter(status=DeliveryStatus.SENT).exists(), "the redelivered task to send it")
    time.sleep(3)  # longer than the visibility timeout and the lease: any duplicate would have run by now

    delivery = ReportDelivery.objects.get()
    assert delivery.attempts == 2  # taken over once the dead worker's claim lapsed
    assert workers.emails() == ["Weekly sales: Last week, Month to date"]
    assert delivery.slot == due_report.deliveries.get().slot
    assert dt.timedelta(0) <= timezone.now() - delivery.finished_at < dt.timedelta(seconds=TIMEOUT)
