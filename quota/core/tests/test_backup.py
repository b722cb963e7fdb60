"""`quota backup` / `quota restore`: a round trip keeps every row, every KPI value and every media file;
a wrong or risky restore is refused with a clear message before anything is touched.

The restore goes into a second, empty database of the same kind (`restored`: an SQLite file, or a
PostgreSQL database created and dropped here), never over the test database itself.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import tarfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.db.utils import load_backend

from quota.core import backup as backups
from quota.core.backup import BackupError
from quota.crm.services import deal_close_lost, deal_close_won
from quota.kpi.catalogue import CATALOGUE
from quota.kpi.engine import evaluate
from quota.testing.commands import run_command
from quota.testing.factories import (
    CallFactory,
    CaseFactory,
    DealFactory,
    InvoiceFactory,
    LeadFactory,
    MeetingFactory,
    OrderFactory,
    TeamFactory,
    UserFactory,
    loss_reason,
)

pytestmark = pytest.mark.django_db(transaction=True)

NOW = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
START, END = dt.date(2025, 1, 1), dt.date(2026, 3, 31)
RESTORED = "restored"


@pytest.fixture
def company(time_machine):
    """A small company with a year of records: leads, deals won and lost, calls, meetings, cases, orders, invoices."""
    time_machine.move_to(NOW, tick=False)
    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    reps = [UserFactory(team=north), UserFactory(team=north), UserFactory(team=south)]
    for month in range(1, 15):
        day = dt.datetime(2025 + (month - 1) // 12, (month - 1) % 12 + 1, 5 + month % 7, 10, tzinfo=dt.UTC)
        for index, rep in enumerate(reps):
            LeadFactory(owner=rep, created_at=day)
            won = DealFactory(owner=rep, created_at=day - dt.timedelta(days=20), amount=Decimal(1000 * (index + 1) + month))
            deal_close_won(deal=won, by=rep, at=day)
            if (month + index) % 3 == 0:
                lost = DealFactory(owner=rep, created_at=day - dt.timedelta(days=10))
                deal_close_lost(deal=lost, by=rep, reason=loss_reason(), at=day)
            CallFactory(owner=rep, occurred_at=day, answered=(month + index) % 2 == 0)
            MeetingFactory(owner=rep, occurred_at=day)
            CaseFactory(owner=rep, created_at=day)
            OrderFactory(owner=rep, company=won.company, ordered_at=day, amount=Decimal(500 + month))
            InvoiceFactory(owner=rep, company=won.company, issued_at=day, amount=Decimal(400 + month))
    return reps


@pytest.fixture
def media(tmp_path, settings):
    root = tmp_path / "media"
    (root / "imports" / "2026" / "03").mkdir(parents=True)
    (root / "imports" / "2026" / "03" / "deals.csv").write_text("title,amount\nBig deal,1000\n")
    (root / "reports").mkdir()
    (root / "reports" / "monthly.pdf").write_bytes(b"%PDF-1.7 " + bytes(range(256)) * 40)
    settings.MEDIA_ROOT = root
    return root


@pytest.fixture
def restored(transactional_db, tmp_path):
    """An empty database of the test database's kind under the alias `restored`, removed afterwards."""
    default = connections["default"]
    alias_settings = copy.deepcopy(default.settings_dict)
    if default.vendor == "sqlite":
        alias_settings["NAME"] = str(tmp_path / "restored.sqlite3")
    else:
        alias_settings["NAME"] = f"{default.settings_dict['NAME']}_restore"
        _admin_sql(default, f'DROP DATABASE IF EXISTS "{alias_settings["NAME"]}"', f'CREATE DATABASE "{alias_settings["NAME"]}"')
    # Registered as a connection only, not in the settings: Django's test case then treats it as a connection
    # made on the fly, which it allows, rather than as a configured database this test did not declare.
    wrapper = load_backend(alias_settings["ENGINE"]).DatabaseWrapper(alias_settings, RESTORED)
    setattr(connections._connections, RESTORED, wrapper)
    yield RESTORED
    wrapper.close()
    delattr(connections._connections, RESTORED)
    if default.vendor == "postgresql":
        _admin_sql(default, f'DROP DATABASE IF EXISTS "{alias_settings["NAME"]}" WITH (FORCE)')


def _admin_sql(connection, *statements: str) -> None:
    import psycopg

    params = connection.get_connection_params()
    params["dbname"] = "postgres"
    with psycopg.connect(**params, autocommit=True) as admin:
        for statement in statements:
            admin.execute(statement)


def row_counts(alias: str) -> dict[str, int]:
    connection = connections[alias]
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def kpi_values(alias: str) -> dict[str, list[tuple]]:
    keys = [entry.key for entry in CATALOGUE]
    values = {}
    for by, every, chosen in (("none", "month", keys), ("person", "quarter", ["won_revenue", "calls_made", "win_rate"])):
        evaluation = evaluate(chosen, user=None, start=START, end=END, every=every, by=by, using=alias)
        for result in evaluation:
            values[f"{result.key}/{by}"] = [
                (p.period, p.group.label if p.group else None, p.value, p.previous, p.last_year) for p in result.points
            ]
    return values


def archive_members(path: Path) -> list[str]:
    with tarfile.open(path, "r:gz") as archive:
        return archive.getnames()


def test_a_round_trip_keeps_every_row_every_kpi_value_and_every_media_file(company, media, restored, tmp_path):
    rows_before, kpis_before = row_counts("default"), kpi_values("default")
    assert rows_before["crm_deal"] > 40 and rows_before["activities_activity"] > 80  # a real company, not an empty one
    assert any(value for points in kpis_before.values() for _, _, value, _, _ in points)
    files_before = {p.relative_to(media): p.read_bytes() for p in media.rglob("*") if p.is_file()}

    archive = tmp_path / "quota.tar.gz"
    assert f"and 2 media files to {archive}" in run_command("backup", str(archive))
    vendor = connections["default"].vendor
    assert set(archive_members(archive)) == {
        "manifest.json",
        backups.DATABASE_FILES[vendor],
        "media/imports/2026/03/deals.csv",
        "media/reports/monthly.pdf",
    }
    manifest = backups.read_manifest(archive)
    assert manifest.vendor == vendor and manifest.media_files == 2
    assert "crm.0003_builtin_data" in manifest.migrations

    restored_media = tmp_path / "restored-media"
    report = backups.restore(archive, using=restored, media_root=restored_media)
    assert report.pending_migrations == []

    assert row_counts(restored) == rows_before
    assert kpi_values(restored) == kpis_before
    assert {p.relative_to(restored_media): p.read_bytes() for p in restored_media.rglob("*") if p.is_file()} == files_before


def test_restore_refuses_a_database_that_holds_data_and_changes_nothing(company, media, tmp_path):
    archive = tmp_path / "quota.tar.gz"
    backups.backup(archive)
    rows = row_counts("default")
    with pytest.raises(CommandError, match=r"The database already holds data \(\d+ tables with rows.*pass --force"):
        call_command("restore", str(archive))
    assert row_counts("default") == rows


def test_restore_refuses_a_media_folder_that_holds_files(restored, media, tmp_path):
    archive = tmp_path / "quota.tar.gz"
    backups.backup(archive)
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "keep.txt").write_text("mine")
    with pytest.raises(BackupError, match=r"already holds 1 files.*--force"):
        backups.restore(archive, using=restored, media_root=occupied)
    assert (occupied / "keep.txt").read_text() == "mine"


def test_force_replaces_a_database_and_media_that_hold_data(company, media, restored, tmp_path):
    archive = tmp_path / "quota.tar.gz"
    backups.backup(archive)
    target_media = tmp_path / "target-media"
    backups.restore(archive, using=restored, media_root=target_media)
    with connections[restored].cursor() as cursor:
        cursor.execute("UPDATE crm_deal SET title = 'changed after the backup'")
    (target_media / "stray.txt").write_text("not in the backup")

    with pytest.raises(BackupError, match="already holds data"):
        backups.restore(archive, using=restored, media_root=target_media)
    backups.restore(archive, using=restored, media_root=target_media, force=True)

    with connections[restored].cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM crm_deal WHERE title = 'changed after the backup'")
        assert cursor.fetchone()[0] == 0
    assert row_counts(restored) == row_counts("default")
    assert not (target_media / "stray.txt").exists()


def test_a_backup_of_the_other_database_kind_is_refused(restored, tmp_path):
    archive = tmp_path / "quota.tar.gz"
    backups.backup(archive)
    here = connections["default"].vendor
    other = "postgresql" if here == "sqlite" else "sqlite"
    forged = rewrite_manifest(archive, tmp_path / "other.tar.gz", vendor=other)
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    with pytest.raises(BackupError, match=f"holds a {names[other]} database and the database here is {names[here]}"):
        backups.restore(forged, using=restored, media_root=tmp_path / "m")
    assert row_counts(restored) == {}


def test_a_backup_of_a_newer_quota_is_refused(restored, tmp_path):
    archive = tmp_path / "quota.tar.gz"
    backups.backup(archive)
    manifest = backups.read_manifest(archive)
    forged = rewrite_manifest(archive, tmp_path / "newer.tar.gz", migrations=[*manifest.migrations, "crm.9999_from_the_future"])
    with pytest.raises(BackupError, match=r"newer Quota \(1 migrations unknown here, e\.g\. crm\.9999_from_the_future\)"):
        backups.restore(forged, using=restored, media_root=tmp_path / "m")


def test_an_older_backup_restores_and_asks_for_migrate(restored, tmp_path, capsys):
    archive = tmp_path / "quota.tar.gz"
    backups.backup(archive)
    manifest = backups.read_manifest(archive)
    older = rewrite_manifest(archive, tmp_path / "older.tar.gz", migrations=manifest.migrations[:-1])
    report = backups.restore(older, using=restored, media_root=tmp_path / "m")
    assert report.pending_migrations == [manifest.migrations[-1]]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not an archive at all", "is not a Quota backup"),
        (None, "does not exist"),
    ],
)
def test_a_file_that_is_not_a_backup_is_refused(tmp_path, content, message):
    path = tmp_path / "file.tar.gz"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        call_command("restore", str(path))


def test_an_archive_with_unexpected_entries_is_refused(restored, tmp_path):
    archive = tmp_path / "quota.tar.gz"
    backups.backup(archive)
    tampered = rewrite_manifest(archive, tmp_path / "tampered.tar.gz", extra={"../../etc/cron.d/evil": b"* * * * * root id"})
    with pytest.raises(BackupError, match="which no Quota backup holds"):
        backups.restore(tampered, using=restored, media_root=tmp_path / "m")
    assert row_counts(restored) == {}


def test_backup_does_not_overwrite_a_file_unless_forced(tmp_path):
    archive = tmp_path / "quota.tar.gz"
    archive.write_text("an older backup")
    with pytest.raises(CommandError, match=r"already exists.*--force"):
        call_command("backup", str(archive))
    assert archive.read_text() == "an older backup"
    call_command("backup", str(archive), "--force", stdout=io.StringIO())
    assert "manifest.json" in archive_members(archive)


def test_backup_into_a_missing_folder_says_so(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("backup", str(tmp_path / "missing" / "quota.tar.gz"))


@pytest.mark.skipif("connections['default'].vendor != 'postgresql'", reason="pg_restore --clean: PostgreSQL only")
def test_postgresql_refuses_a_forced_restore_over_a_newer_schema(restored, tmp_path):
    archive = tmp_path / "quota.tar.gz"
    backups.backup(archive)
    backups.restore(archive, using=restored, media_root=tmp_path / "m")
    with connections[restored].cursor() as cursor:
        cursor.execute("INSERT INTO django_migrations (app, name, applied) VALUES ('crm', '9999_later', NOW())")
    with pytest.raises(BackupError, match=r"1 migrations the backup lacks \(e\.g\. crm\.9999_later\).*empty database"):
        backups.restore(archive, using=restored, media_root=tmp_path / "m", force=True)


def rewrite_manifest(source: Path, target: Path, *, extra: dict[str, bytes] | None = None, **changes) -> Path:
    """A copy of the archive at `source` with manifest fields changed and entries added."""
    with tarfile.open(source, "r:gz") as old, tarfile.open(target, "w:gz") as new:
        for member in old.getmembers():
            data = old.extractfile(member).read() if member.isfile() else b""
            if member.name == "manifest.json":
                data = json.dumps({**json.loads(data), **changes}).encode()
                member.size = len(data)
            new.addfile(member, io.BytesIO(data))
        for name, data in (extra or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            new.addfile(info, io.BytesIO(data))
    return target
