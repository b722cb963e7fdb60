"""Table versions follow every committed write, however it is made; reads note what they depended on."""

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection, transaction

from quota.activities.models import Activity
from quota.core import dataversions
from quota.crm.models import Company, Deal
from quota.testing.factories import CallFactory, CompanyFactory, DealFactory

pytestmark = pytest.mark.django_db

COMPANIES = dataversions.table_key(Company._meta.db_table)
DEALS = dataversions.table_key(Deal._meta.db_table)


@pytest.fixture(autouse=True)
def kept(settings):
    settings.PAGE_CACHE_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


def version(key: str):
    return dataversions.versions([key])[key]


def test_a_committed_write_gives_its_table_a_new_version_and_leaves_the_others(django_capture_on_commit_callbacks):
    deals_before = version(DEALS)
    with django_capture_on_commit_callbacks(execute=True):
        CompanyFactory()
        first = version(COMPANIES)
    assert first is None  # not before the commit
    assert version(COMPANIES) is not None
    assert version(DEALS) == deals_before


@pytest.mark.parametrize("write", ["update", "bulk_create", "sql", "bare sql", "delete"])
def test_writes_that_send_no_signal_are_seen_too(write, django_capture_on_commit_callbacks):
    company = CompanyFactory()
    with django_capture_on_commit_callbacks(execute=True):
        pass
    before = version(COMPANIES)
    with django_capture_on_commit_callbacks(execute=True):
        if write == "update":
            Company.objects.update(name="Renamed")
        elif write == "bulk_create":
            Company.objects.bulk_create([Company(name="Bulk", owner=company.owner)])
        elif write == "sql":
            with connection.cursor() as cursor:
                cursor.execute(f'UPDATE "{Company._meta.db_table}" SET "name" = %s', ["By SQL"])
        elif write == "bare sql":  # the table's name unquoted, as hand-written SQL may have it
            with connection.cursor() as cursor:
                cursor.execute(f"UPDATE {Company._meta.db_table} SET name = %s", ["By SQL"])
        else:
            Company.objects.filter(pk=company.pk).delete()
    assert version(COMPANIES) != before


def test_a_write_rolled_back_renews_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                CompanyFactory()
                raise RuntimeError("changed my mind")
        except RuntimeError:
            pass
    assert version(COMPANIES) is None


def test_sessions_have_no_version(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        Session.objects.create(session_key="k" * 32, session_data="", expire_date="2030-01-01T00:00:00Z")
    assert not [c for c in callbacks if getattr(c, "func", None) is dataversions.bump_keys]


def test_nothing_is_kept_when_no_cache_needs_it(settings, django_capture_on_commit_callbacks):
    settings.PAGE_CACHE_SECONDS = 0
    settings.KPI_CACHE_SECONDS = 0
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        CompanyFactory()
    assert not [c for c in callbacks if getattr(c, "func", None) is dataversions.bump_keys]
    assert version(COMPANIES) is None


def test_reading_notes_each_table_with_its_version_before_the_read(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        CompanyFactory()
    current = version(COMPANIES)
    with dataversions.reading() as reads:
        list(Deal.objects.select_related("company"))
    assert reads.versions[COMPANIES] == current
    assert DEALS in reads.versions


def test_a_hand_written_read_notes_its_bare_table_names_and_not_its_aliases():
    with dataversions.reading() as reads, connection.cursor() as cursor:
        cursor.execute(f"SELECT d.id FROM {Deal._meta.db_table} d JOIN {Company._meta.db_table} c ON c.id = d.company_id")
    assert {DEALS, COMPANIES} <= set(reads.versions)
    assert dataversions.tables_read("SELECT x FROM d JOIN unnest(%s) u ON true") == set()


def test_nested_readers_both_hear_of_a_read():
    with dataversions.reading() as outer, dataversions.reading() as inner:
        list(Company.objects.all())
    assert COMPANIES in outer.versions and COMPANIES in inner.versions


def test_reads_of_some_rows_depend_on_those_rows_only(django_capture_on_commit_callbacks):
    shown, other = DealFactory(), DealFactory()
    with dataversions.reading() as reads, dataversions.rows_of(Activity, "deal") as rows:
        rows.are([shown.pk])
        list(Activity.objects.filter(deal=shown))
    assert dataversions.table_key(Activity._meta.db_table) not in reads.versions

    def unchanged() -> bool:
        return dataversions.versions(list(reads.versions)) == reads.versions

    with django_capture_on_commit_callbacks(execute=True):
        CallFactory(deal=other, owner=other.owner)
    assert unchanged(), "a call on another deal"
    with django_capture_on_commit_callbacks(execute=True):
        call = CallFactory(deal=shown, owner=shown.owner)
    assert not unchanged(), "a call on the deal shown"

    seen = dict(reads.versions, **dataversions.versions(list(reads.versions)))
    with django_capture_on_commit_callbacks(execute=True):
        call.deal = other
        call.save()
    assert dataversions.versions(list(seen)) != seen, "a call moved away from the deal shown"

    seen = dataversions.versions(list(seen))
    with django_capture_on_commit_callbacks(execute=True):
        Activity.objects.filter(deal=other).update(subject="Renamed")  # one statement for any rows: all of them
    assert dataversions.versions(list(seen)) != seen


def test_a_block_of_rows_must_name_them():
    with (
        pytest.raises(RuntimeError, match="did not name its rows"),
        dataversions.reading(),
        dataversions.rows_of(Activity, "deal"),
    ):
        list(Activity.objects.all())


def test_only_tracked_models_can_be_read_by_rows():
    with pytest.raises(AssertionError, match="not tracked"), dataversions.rows_of(Activity, "company"):
        pass


def test_rows_are_versioned_as_they_were_named_not_after_the_read(django_capture_on_commit_callbacks):
    """A call committed between naming the rows and reading them leaves what was read behind."""
    shown = DealFactory()
    with dataversions.reading() as reads, dataversions.rows_of(Activity, "deal") as rows:
        rows.are([shown.pk])
        with django_capture_on_commit_callbacks(execute=True):
            CallFactory(deal=shown, owner=shown.owner)
        list(Activity.objects.filter(deal=shown))
    assert dataversions.versions(list(reads.versions)) != reads.versions
