"""0013 (the customer lifecycle) upgrades a database that already has won deals.

Its customer-since UPDATE touches rows the migration itself rewrote (the stored lifecycle column), so
PostgreSQL queued the deferred checks of their links (an owner), then refused the indexes created after it
("cannot CREATE INDEX ... because it has pending trigger events"). A fresh test database has no
companies at that point, so only an upgrade with data shows it.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE, AFTER = ("crm", "0012_deal_open_by_close"), ("crm", "0013_company_lifecycle")


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()  # what the previous migrate applied
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_companies_with_won_deals_become_customers_on_upgrade():
    try:
        old = migrate([BEFORE])
        Company, Deal = old.get_model("crm", "Company"), old.get_model("crm", "Deal")
        # Made here: a test that flushed the database before this one took the built-in pipeline with it.
        pipeline = old.get_model("crm", "Pipeline").objects.create(name="Upgrade")
        stage = old.get_model("crm", "Stage").objects.create(pipeline=pipeline, name="Won", position=1, probability=100)
        won_on = dt.datetime(2024, 3, 5, 12, tzinfo=dt.UTC)
        # Owned: an UPDATE of a row written in the same transaction queues the check of its non-null links.
        owner = old.get_model("accounts", "User").objects.create(username="owner")
        customer = Company.objects.create(name="Customer", owner=owner)
        prospect = Company.objects.create(name="Prospect", owner=owner)
        for company, status, closed_at in [(customer, "won", won_on), (prospect, "open", None)]:
            Deal.objects.create(
                title="Deal",
                company=company,
                pipeline=pipeline,
                stage=stage,
                amount=Decimal(100),
                status=status,
                created_at=won_on - dt.timedelta(days=30),
                closed_at=closed_at,
            )

        new = migrate([AFTER]).get_model("crm", "Company")
        assert new.objects.get(pk=customer.pk).customer_since == won_on.date()
        assert new.objects.get(pk=prospect.pk).customer_since is None
    finally:
        migrate(latest())
