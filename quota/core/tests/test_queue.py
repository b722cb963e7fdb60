"""Tasks go to the broker; when it is down they run in this process, and the broker is left alone for a while."""

import logging

import pytest

from quota.celery import app
from quota.core import queue
from quota.testing.outages import REDIS_DOWN, celery_broker

ran: list[int] = []


# Bound to Quota's app, not whichever app is current (another test may have made its own).
@app.task(name="quota.core.tests.test_queue.remember")
def remember(number: int) -> int:
    ran.append(number)
    return number


@app.task(name="quota.core.tests.test_queue.explode")
def explode() -> None:
    raise RuntimeError("boom")


@pytest.fixture(autouse=True)
def _forget():
    ran.clear()
    yield
    ran.clear()


def test_eager_celery_runs_the_task_at_once():
    queue.enqueue(remember, 1)
    assert ran == [1]


def test_a_dead_broker_runs_the_task_here_and_is_not_asked_again_for_a_while(monkeypatch, caplog):
    with celery_broker(REDIS_DOWN):
        published = []
        real_apply_async = remember.apply_async

        def counting(*args, **kwargs):
            published.append(args)
            return real_apply_async(*args, **kwargs)

        monkeypatch.setattr(remember, "apply_async", counting)
        with caplog.at_level(logging.WARNING, logger="quota.core.queue"):
            queue.enqueue(remember, 1)
            queue.enqueue(remember, 2)
        assert ran == [1, 2]
        assert len(published) == 1  # the second did not wait for a broker known to be down
        assert "running quota.core.tests.test_queue.remember in this process" in caplog.text
        assert queue.broker_state() == "down"
        queue.forget_broker_failure()
        assert queue.broker_state() == "unknown"


def test_a_task_that_fails_in_process_is_logged_not_raised(caplog):
    with celery_broker(REDIS_DOWN), caplog.at_level(logging.ERROR, logger="quota.core.queue"):
        queue.enqueue(explode)
    assert "Task quota.core.tests.test_queue.explode failed in process" in caplog.text


@pytest.mark.django_db
def test_after_commit_a_failure_never_reaches_the_committed_request(monkeypatch, django_capture_on_commit_callbacks):
    def broken(*args, **kwargs):
        raise ValueError("not a broker problem")

    monkeypatch.setattr(remember, "apply_async", broken)
    with django_capture_on_commit_callbacks(execute=True):
        queue.enqueue_on_commit(remember, 3)  # robust: logged by Django, not raised
    assert ran == []
