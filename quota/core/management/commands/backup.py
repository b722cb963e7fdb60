"""`quota backup FILE`: the database and the media files (imports, report files) in one .tar.gz archive."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from quota.core.backup import VENDOR_NAMES, BackupError, backup, describe_size


class Command(BaseCommand):
    help = (
        "Write the database (SQLite or PostgreSQL) and every file under MEDIA_ROOT to FILE, a .tar.gz with a manifest. "
        "Safe while Quota runs. `quota restore FILE` puts it back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The archive to write, e.g. quota-2026-03-10.tar.gz.")
        parser.add_argument("--force", action="store_true", help="Replace FILE if it exists.")

    def handle(self, *args: Any, file: str, force: bool, **options: Any) -> None:
        try:
            manifest = backup(Path(file), overwrite=force)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Backed up the {VENDOR_NAMES[manifest.vendor]} database ({len(manifest.migrations)} migrations applied) "
            f"and {manifest.media_files} media files to {file} ({describe_size(Path(file))})."
        )
