"""The benchmarks' own connections are made as the project makes its connections."""

from __future__ import annotations

import pytest

from quota.bench.databases import settings_for


def test_a_benchmark_database_connects_with_the_projects_options(monkeypatch):
    monkeypatch.setenv("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    monkeypatch.delenv("PG_PARALLEL_WORKERS", raising=False)
    config = settings_for("large")
    assert config["NAME"] == "quota_bench_large"
    assert config["OPTIONS"]["options"] == "-c max_parallel_workers_per_gather=0"  # as the pages are served
    monkeypatch.setenv("PG_PARALLEL_WORKERS", "2")
    assert settings_for("large")["OPTIONS"]["options"] == "-c max_parallel_workers_per_gather=2"


def test_a_worker_count_that_is_not_a_whole_number_is_refused_with_what_to_set(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setenv("PG_PARALLEL_WORKERS", "two")
    with pytest.raises(ImproperlyConfigured, match="PG_PARALLEL_WORKERS must be a whole number"):
        settings_for("large")
