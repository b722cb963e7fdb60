"""Backup and restore: the database and the media files (imports, report files) in one archive.

`quota backup FILE` writes a gzip'd tar:

    manifest.json        format, Quota's version, database vendor, applied migrations, time, media files
    database.sqlite3     SQLite: an online copy through SQLite's backup API (consistent while the site runs)
    database.pgdump      PostgreSQL: `pg_dump --format=custom` (one consistent snapshot)
    media/...            every file under MEDIA_ROOT

`quota restore FILE` puts both back into the configured database (DATABASE_URL) and MEDIA_ROOT. It
refuses, before touching anything, a backup of the other database vendor, a backup taken by a newer
Quota (migrations this code does not know), and a target that already holds rows or files, unless
forced. This module knows no domain app: it copies every table whatever it holds.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA = "media"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
VENDOR_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass
class Manifest:
    vendor: str
    created_at: str
    migrations: list[str]
    media_files: int
    quota_version: str = ""
    format: int = FORMAT

    @property
    def database_file(self) -> str:
        return DATABASE_FILES[self.vendor]


@dataclass
class RestoreReport:
    manifest: Manifest
    pending_migrations: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- backup


def backup(path: Path, *, using: str = DEFAULT_DB_ALIAS, media_root: Path | None = None, overwrite: bool = False) -> Manifest:
    """Write the database `using` and the files under `media_root` (MEDIA_ROOT) to the archive `path`."""
    path, media_root = Path(path), Path(media_root or settings.MEDIA_ROOT)
    if path.exists() and not overwrite:
        raise BackupError(f"{path} already exists: choose another name, or pass --force to replace it.")
    if not path.parent.is_dir():
        raise BackupError(f"The folder {path.parent} does not exist.")
    connection = connections[using]
    vendor = _supported_vendor(connection)
    media_files = sorted(p for p in media_root.rglob("*") if p.is_file()) if media_root.is_dir() else []
    manifest = Manifest(
        vendor=vendor,
        created_at=timezone.now().isoformat(),
        migrations=sorted(f"{app}.{name}" for app, name in MigrationRecorder(connection).applied_migrations()),
        media_files=len(media_files),
        quota_version=_quota_version(),
    )
    partial = path.with_name(f".{path.name}.partial")
    try:
        with tempfile.TemporaryDirectory(prefix="quota-backup-") as work:
            database_copy = Path(work) / manifest.database_file
            if vendor == "sqlite":
                _sqlite_copy(connection, database_copy)
            else:
                _pg_dump(connection, database_copy)
            with tarfile.open(partial, "w:gz") as archive:
                data = json.dumps(asdict(manifest), indent=2).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime = len(data), int(timezone.now().timestamp())
                archive.addfile(info, io.BytesIO(data))
                archive.add(database_copy, arcname=manifest.database_file)
                for file in media_files:
                    archive.add(file, arcname=f"{MEDIA}/{file.relative_to(media_root).as_posix()}", recursive=False)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return manifest


def _sqlite_copy(connection: BaseDatabaseWrapper, target: Path) -> None:
    """SQLite's online backup: a consistent copy even while others write."""
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        connection.connection.backup(copy)
    finally:
        copy.close()


def _pg_dump(connection: BaseDatabaseWrapper, target: Path) -> None:
    _run(["pg_dump", "--format=custom", f"--file={target}"], connection, what="pg_dump")


# ----------------------------------------------------------------------------- restore


def read_manifest(path: Path) -> Manifest:
    """The manifest of the archive at `path`, checked to be a Quota backup this code can read."""
    try:
        with tarfile.open(path, "r:gz") as archive:
            member = archive.extractfile(MANIFEST)
            raw = json.loads(member.read()) if member else None
    except FileNotFoundError:
        raise BackupError(f"{path} does not exist.") from None
    except (tarfile.TarError, KeyError, OSError, ValueError):
        raise BackupError(f"{path} is not a Quota backup (a .tar.gz with a {MANIFEST}).") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT or raw.get("vendor") not in DATABASE_FILES:
        raise BackupError(f"{path} is not a Quota backup of a format this version reads (format {FORMAT}).")
    return Manifest(**{key: raw[key] for key in Manifest.__dataclass_fields__ if key in raw})


def restore(path: Path, *, using: str = DEFAULT_DB_ALIAS, media_root: Path | None = None, force: bool = False) -> RestoreReport:
    """Replace the database `using` and the files under `media_root` with the archive's; see the module for refusals."""
    path, media_root = Path(path), Path(media_root or settings.MEDIA_ROOT)
    manifest = read_manifest(path)
    connection = connections[using]
    vendor = _supported_vendor(connection)
    if manifest.vendor != vendor:
        raise BackupError(
            f"This backup holds a {VENDOR_NAMES[manifest.vendor]} database and the database here is "
            f"{VENDOR_NAMES[vendor]}: restore it where DATABASE_URL names a {VENDOR_NAMES[manifest.vendor]} database."
        )
    known = {f"{app}.{name}" for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations}
    unknown = sorted(set(manifest.migrations) - known)
    if unknown:
        raise BackupError(
            f"This backup was taken by a newer Quota ({len(unknown)} migrations unknown here, e.g. {unknown[0]}): "
            "upgrade Quota first, then restore."
        )
    if connection.in_atomic_block:
        raise BackupError("A restore cannot run inside a database transaction.")
    if not force:
        _refuse_if_in_use(connection, media_root)
    elif vendor == "postgresql":
        _refuse_if_newer_schema(connection, manifest)

    media_root.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".quota-restore-", dir=media_root.parent))
    try:
        with tarfile.open(path, "r:gz") as archive:
            for member in archive.getmembers():
                if member.name not in (MANIFEST, manifest.database_file) and not member.name.startswith(f"{MEDIA}/"):
                    raise BackupError(f"{path} holds {member.name!r}, which no Quota backup holds: nothing was restored.")
            try:
                archive.extractall(work, filter="data")
            except tarfile.FilterError as error:
                raise BackupError(f"{path} holds an unsafe entry ({error}): nothing was restored.") from None
        database_copy = work / manifest.database_file
        if not database_copy.is_file():
            raise BackupError(f"{path} lacks its database ({manifest.database_file}): nothing was restored.")
        if vendor == "sqlite":
            _sqlite_restore(connection, database_copy)
        else:
            _pg_restore(connection, database_copy)
        ContentType.objects.clear_cache()  # ids may differ from those this process cached
        _replace_media(work / MEDIA, media_root)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return RestoreReport(manifest=manifest, pending_migrations=sorted(known - set(manifest.migrations)))


def tables_with_rows(connection: BaseDatabaseWrapper) -> list[str]:
    """The tables of the database that hold at least one row (one cheap query per table)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        names = connection.introspection.table_names(cursor)
        found = []
        for name in names:
            cursor.execute(f"SELECT 1 FROM {quote(name)} LIMIT 1")  # names from the catalogue, quoted
            if cursor.fetchone():
                found.append(name)
    return found


def _refuse_if_in_use(connection: BaseDatabaseWrapper, media_root: Path) -> None:
    filled = tables_with_rows(connection)
    if filled:
        raise BackupError(
            f"The database already holds data ({len(filled)} tables with rows, e.g. {filled[0]}). Restoring replaces "
            "all of it: pass --force to go on, or restore into an empty database."
        )
    files = [p for p in media_root.rglob("*") if p.is_file()] if media_root.is_dir() else []
    if files:
        raise BackupError(f"{media_root} already holds {len(files)} files. Restoring replaces them: pass --force to go on.")


def _refuse_if_newer_schema(connection: BaseDatabaseWrapper, manifest: Manifest) -> None:
    """pg_restore --clean replaces the backup's tables only: tables of later migrations would stay behind."""
    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return
    newer = sorted({f"{app}.{name}" for app, name in recorder.applied_migrations()} - set(manifest.migrations))
    if newer:
        raise BackupError(
            f"The database here has {len(newer)} migrations the backup lacks (e.g. {newer[0]}): restore into an "
            "empty database (drop and create it), then run `quota migrate`."
        )


def _sqlite_restore(connection: BaseDatabaseWrapper, database_copy: Path) -> None:
    """Copy the backup over the live database through SQLite's backup API, in one step."""
    connection.ensure_connection()
    source = sqlite3.connect(database_copy)
    try:
        source.backup(connection.connection)
    except sqlite3.Error as error:
        raise BackupError(f"SQLite could not restore the database: {error}") from None
    finally:
        source.close()


def _pg_restore(connection: BaseDatabaseWrapper, dump: Path) -> None:
    """pg_restore in one transaction: either the whole backup is in, or nothing changed."""
    connection.close()  # our own session must hold no lock on the tables pg_restore drops
    _run(
        [
            *("pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction"),
            *("--exit-on-error", f"--dbname={connection.settings_dict['NAME']}", str(dump)),
        ],
        connection,
        what="pg_restore",
    )


def _replace_media(restored: Path, media_root: Path) -> None:
    """Swap the restored media folder in; the old one is removed only once the new one is in place."""
    if not restored.is_dir():
        restored.mkdir()
    old = media_root.with_name(f".{media_root.name}.replaced-{os.getpid()}")
    if media_root.exists():
        media_root.rename(old)
    restored.rename(media_root)
    shutil.rmtree(old, ignore_errors=True)


# ----------------------------------------------------------------------------- helpers


def _supported_vendor(connection: BaseDatabaseWrapper) -> str:
    if connection.vendor not in DATABASE_FILES:
        raise BackupError(f"Backups cover SQLite and PostgreSQL, not {connection.vendor}.")
    return connection.vendor


def _run(command: list[str], connection: BaseDatabaseWrapper, *, what: str) -> None:
    """Run a PostgreSQL client program against the connection's database, or fail with its own words."""
    if shutil.which(command[0]) is None:
        raise BackupError(f"{what} was not found: install PostgreSQL's client programs (Debian: postgresql-client).")
    result = subprocess.run(command, env=_pg_environment(connection.settings_dict), capture_output=True, text=True)
    if result.returncode != 0:
        detail = " ".join(result.stderr.split())[:500] or f"exit code {result.returncode}"
        raise BackupError(f"{what} failed: {detail}")


def _pg_environment(settings_dict: dict) -> dict[str, str]:
    environment = dict(os.environ)
    for key, variable in (("NAME", "PGDATABASE"), ("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER")):
        if settings_dict.get(key):
            environment[variable] = str(settings_dict[key])
    if settings_dict.get("PASSWORD"):
        environment["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    if (settings_dict.get("OPTIONS") or {}).get("sslmode"):
        environment["PGSSLMODE"] = str(settings_dict["OPTIONS"]["sslmode"])
    return environment


def _quota_version() -> str:
    try:
        return version("quota")
    except PackageNotFoundError:
        return ""


def describe_size(path: Path) -> str:
    size = float(Path(path).stat().st_size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{size:,.1f} GB"
