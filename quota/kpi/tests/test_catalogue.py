"""The built-in catalogue is loaded by migrate, and a changed definition becomes a new version."""

import datetime as dt
from decimal import Decimal

import pytest

from quota.kpi import catalogue
from quota.kpi.catalogue import CATALOGUE, Entry
from quota.kpi.engine import evaluate
from quota.kpi.models import Metric, Target
from quota.kpi.services import sync_catalogue
from quota.testing.factories import DealFactory, UserFactory

pytestmark = pytest.mark.django_db

REQUIRED = [
    "win_rate",
    "won_revenue",
    "won_deals",
    "sales_cycle_days",
    "new_leads",
    "lead_conversion_rate",
    "avg_deal_value",
    "pipeline_value",
]


def test_migrate_loaded_every_builtin_kpi_once():
    current = Metric.objects.current()
    assert sorted(current.values_list("key", flat=True)) == sorted(e.key for e in CATALOGUE)
    assert set(REQUIRED) <= {e.key for e in CATALOGUE}
    assert all(m.is_builtin and m.version == 1 for m in current)
    assert sync_catalogue().created == []  # idempotent


def test_a_changed_definition_is_a_new_version_and_the_old_one_still_counts_as_before(monkeypatch):
    rep = UserFactory()
    for amount in ("100", "5000"):
        DealFactory(
            owner=rep,
            amount=Decimal(amount),
            status="won",
            created_at=dt.datetime(2024, 1, 2, tzinfo=dt.UTC),
            closed_at=dt.datetime(2024, 1, 3, tzinfo=dt.UTC),
        )
    old = Metric.objects.get(key="won_deals", is_current=True)
    target = Target.objects.create(metric=old, start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 31), value=Decimal(2))

    entry = catalogue.BY_KEY["won_deals"]
    bigger = {**entry.definition, "filters": [*entry.definition["filters"], {"field": "amount", "op": "gte", "value": 1000}]}
    monkeypatch.setattr(catalogue, "CATALOGUE", [Entry("won_deals", entry.name, "Only big ones.", bigger)])
    monkeypatch.setattr("quota.kpi.services.CATALOGUE", catalogue.CATALOGUE)
    report = sync_catalogue()

    assert report.new_versions == ["won_deals"]
    new = Metric.objects.get(key="won_deals", is_current=True)
    old.refresh_from_db()
    assert (old.version, old.is_current, new.version) == (1, False, 2)
    window = {"user": None, "start": dt.date(2024, 1, 1), "end": dt.date(2024, 1, 31), "every": "none"}
    assert evaluate(["won_deals"], **window)["won_deals"].points[0].value == 1  # the key gives the current version
    assert evaluate([target.metric], **window)["won_deals"].points[0].value == 2  # the target keeps its version


def test_new_words_alone_do_not_make_a_new_version(monkeypatch):
    entry = catalogue.BY_KEY["won_deals"]
    monkeypatch.setattr("quota.kpi.services.CATALOGUE", [Entry("won_deals", "Deals won", "Clearer words.", entry.definition)])
    assert sync_catalogue().renamed == ["won_deals"]
    metric = Metric.objects.get(key="won_deals", is_current=True)
    assert (metric.version, metric.name, metric.description) == (1, "Deals won", "Clearer words.")


def test_every_builtin_kpi_has_a_definition_paragraph():
    for entry in CATALOGUE:
        assert entry.description.endswith(".") and len(entry.description) > 60, entry.key
