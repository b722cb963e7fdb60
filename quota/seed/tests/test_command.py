"""`quota seed` through call_command: sizes, --if-empty, --flush, refusals, and the writer per database."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from quota.accounts.models import User
from quota.crm.models import Deal
from quota.seed import writers
from quota.seed.tests.conftest import SMALL

pytestmark = pytest.mark.django_db


def seed(*args, **options):
    out = StringIO()
    call_command("seed", *args, "--no-progress", stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def test_seeds_an_empty_database_and_summarises_what_it_wrote():
    output = seed(size=SMALL, seed=3, today="2025-03-01")
    assert Deal.objects.count() == int(SMALL)
    assert "crm_deal" in output and "rows/s" in output and "Demo logins" in output
    assert f"{int(SMALL):>12,}" in output


def test_if_empty_twice_seeds_once():
    seed(size=SMALL, if_empty=True, today="2025-03-01")
    counts = (User.objects.count(), Deal.objects.count())
    output = seed(size=SMALL, if_empty=True, today="2025-03-01")
    assert output.startswith("Not seeding: the database already has data (")
    assert (User.objects.count(), Deal.objects.count()) == counts


def test_a_database_with_data_is_refused_without_flush():
    seed(size=SMALL, today="2025-03-01")
    with pytest.raises(CommandError) as error:
        seed(size=SMALL, today="2025-03-01")
    message = str(error.value)
    assert "already has data" in message and "--flush" in message and "\n" not in message
    assert Deal.objects.count() == int(SMALL)


@pytest.mark.slow
def test_flush_replaces_the_data():
    seed(size=SMALL, seed=1, today="2025-03-01")
    first = list(Deal.objects.order_by("id").values_list("title", flat=True)[:20])
    seed(size=SMALL, seed=2, today="2025-03-01", flush=True)
    assert Deal.objects.count() == int(SMALL)
    assert list(Deal.objects.order_by("id").values_list("title", flat=True)[:20]) != first


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"size": "huge"}, "--size must be demo, large or a number"),
        ({"size": "10"}, "--size must be between"),
        ({"size": SMALL, "seed": -1}, "--seed must be zero or more"),
        ({"size": SMALL, "if_empty": True, "flush": True}, "contradict"),
    ],
)
def test_bad_options_fail_with_a_one_line_reason(options, reason):
    with pytest.raises(CommandError, match=reason) as error:
        seed(**options)
    assert "\n" not in str(error.value)
    assert not Deal.objects.exists()


def test_bad_date_is_refused():
    with pytest.raises(CommandError, match="--today must be a date"):
        seed("--today", "yesterday")


def test_rows_go_through_copy_on_postgresql_and_executemany_on_sqlite(monkeypatch):
    used = []
    for cls in (writers.PostgresCopyWriter, writers.SqliteWriter):
        original = cls.write

        def spy(self, table, batches, progress, rows=0, original=original, cls=cls):
            used.append(cls.__name__)
            return original(self, table, batches, progress, rows)

        monkeypatch.setattr(cls, "write", spy)
    seed(size=SMALL, today="2025-03-01")
    expected = "PostgresCopyWriter" if connection.vendor == "postgresql" else "SqliteWriter"
    assert set(used) == {expected}
    assert len(used) == 18  # every seeded table but the targets and notifications (written after)


@pytest.mark.slow
def test_flush_applies_other_apps_on_delete_rules_first():
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    seed(size=SMALL, today="2025-03-01")
    director = User.objects.get(username="director")
    LogEntry.objects.create(
        user=director, content_type=ContentType.objects.get_for_model(Deal), object_id="1", object_repr="x", action_flag=CHANGE
    )
    seed(size=SMALL, today="2025-03-01", flush=True)
    assert not LogEntry.objects.exists()  # LogEntry.user is CASCADE
    assert Deal.objects.count() == int(SMALL)
