"""PostgreSQL only: the COPY path with its index rebuild leaves the schema as the migrations made it."""

import pytest
from django.db import connection

from quota.crm.models import Deal
from quota.seed import writers
from quota.seed.runner import seed_company
from quota.seed.tests.conftest import SMALL, TODAY

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY and index rebuilds are PostgreSQL's"),
]


def index_definitions():
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1, 2")
        return cursor.fetchall()


def test_indexes_dropped_for_the_load_are_rebuilt_exactly(monkeypatch):
    rebuilt = []
    drop = writers.PostgresCopyWriter._drop_secondary_indexes

    def spy(table):
        definitions = drop(table)
        rebuilt.append((table, len(definitions)))
        return definitions

    monkeypatch.setattr(writers, "REBUILD_INDEXES_FROM_ROWS", 1_000)
    monkeypatch.setattr(writers.PostgresCopyWriter, "_drop_secondary_indexes", staticmethod(spy))
    before = index_definitions()
    seed_company(size=SMALL, seed=5, today=TODAY)
    assert dict(rebuilt)["activities_activity"] >= 8  # four declared indexes and four foreign keys
    assert index_definitions() == before
    assert Deal.objects.filter(status="won", amount__gt=0).exists()  # the rebuilt indexes answer queries


def test_sequences_continue_after_the_copied_ids():
    seed_company(size=SMALL, seed=5, today=TODAY)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence('crm_deal', 'id')")
        cursor.execute(f"SELECT last_value, is_called FROM {cursor.fetchone()[0]}")
        assert cursor.fetchone() == (Deal.objects.order_by("-id").values_list("id", flat=True).first(), True)
