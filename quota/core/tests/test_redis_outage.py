"""With Redis down, Quota degrades (no cache, tasks in the web process) instead of failing.

The test settings have no Redis; these tests switch to what production computes for a REDIS_URL whose
server is down (a closed port): django-redis as the cache, Celery publishing to that broker.
"""

import json
import uuid
from decimal import Decimal

import pytest
import redis
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from quota.celery import app
from quota.core import queue
from quota.crm.models import Deal, DealStageChange, Lead
from quota.testing.factories import CompanyFactory, UserFactory, default_pipeline, lead_source
from quota.testing.outages import REDIS_DOWN, REDIS_UP, celery_broker, production_settings
from quota.webforms import services as webforms

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_down(settings):
    production = production_settings(REDIS_DOWN)
    settings.CACHES = production["CACHES"]
    assert settings.CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache"
    with celery_broker(production["CELERY_BROKER_URL"], eager=production["CELERY_TASK_ALWAYS_EAGER"]):
        yield


def test_the_cache_misses_instead_of_failing(redis_down):
    cache.set("k", 1)
    assert cache.get("k") is None and cache.get("k", "default") == "default"
    assert cache.get_or_set("v", 1) in (None, 1)


def test_login_works(client, redis_down):
    user = UserFactory(username="director", role="director")
    response = client.post(reverse("login"), {"username": "director", "password": "pw"})
    assert response.status_code == 302 and response["Location"] == "/"
    user.refresh_from_db()
    assert user.last_login is not None  # the save that bumps the (unreachable) cached team tree


def test_a_reps_pages_render(client, people, redis_down):
    client.force_login(people["rep"])
    assert client.get("/").status_code == 200
    assert client.get(reverse("crm:deal_list")).status_code == 200


def test_a_deal_is_created_and_won(client, people, redis_down, django_capture_on_commit_callbacks):
    rep = people["rep"]
    company = CompanyFactory(owner=rep)
    client.force_login(rep)
    fields = {"title": "Fleet", "company": company.pk, "pipeline": default_pipeline().pk, "amount": "1200.50"}
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(reverse("crm:deal_create"), {**fields, "currency": "EUR", "business_type": "new", "owner": rep.pk})
        deal = Deal.objects.get(title="Fleet")
        assert created.status_code == 302
        won = client.post(reverse("crm:deal_win", args=[deal.pk]), {"amount": "1250"}, HTTP_HX_REQUEST="true")
    assert won.status_code == 200
    deal.refresh_from_db()
    assert deal.status == "won" and deal.amount == Decimal("1250")
    assert DealStageChange.objects.filter(deal=deal, to_status="won").exists()


def test_a_web_form_creates_a_lead_and_its_e_mail_is_sent_from_the_web_process(
    client, redis_down, django_capture_on_commit_callbacks
):
    form = webforms.webform_create(
        by=None,
        name="Contact",
        target="lead",
        source=lead_source("website"),
        owner=UserFactory(),
        asked_fields=[{"name": "name", "required": True}, {"name": "email", "required": True}],
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/forms/f/{form.key}/json/",
            json.dumps({"name": "Ann Lee", "email": "ann@example.com"}),
            content_type="application/json",
        )
    assert response.status_code == 201 and Lead.objects.get().last_name == "Lee"
    # The broker refused the task, so it ran here: the confirmation went out all the same.
    assert [message.to for message in mail.outbox] == [["ann@example.com"]]
    assert queue.broker_state() == "down"


# ------------------------------------------------------------------------------------- and with Redis up

sent_here: list[int] = []


@app.task(name="quota.core.tests.test_redis_outage.remember")
def remember(number: int) -> None:
    sent_here.append(number)


def _redis_reachable() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_UP, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.mark.skipif(not _redis_reachable(), reason="Redis is not reachable on 127.0.0.1:6379")
def test_with_redis_up_the_cache_is_shared_and_tasks_go_to_the_broker(client, settings):
    production = production_settings(REDIS_UP)
    settings.CACHES = {"default": {**production["CACHES"]["default"], "KEY_PREFIX": "quota-test-outages"}}
    server = redis.Redis.from_url(REDIS_UP)
    name = f"quota-test-outages-{uuid.uuid4().hex[:8]}"
    try:
        with celery_broker(production["CELERY_BROKER_URL"], queue_name=name):
            cache.set("shared", 41)
            assert cache.get("shared") == 41 and server.exists("quota-test-outages:1:shared")
            queue.enqueue(remember, 7)
            assert sent_here == [] and server.llen(name) == 1  # queued for a worker, not run here
            checks = client.get("/healthz").json()["checks"]
        assert checks["cache"]["status"] == checks["broker"]["status"] == "ok"
        assert checks["worker"]["status"] == "degraded"  # no worker has run the heartbeat task
    finally:
        cache.delete("shared")
        server.delete(name, *server.keys(f"_kombu.binding*{name}*"))
