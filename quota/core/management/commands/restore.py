"""`quota restore FILE`: put a `quota backup` archive back (database and media files)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from quota.core.backup import VENDOR_NAMES, BackupError, restore


class Command(BaseCommand):
    help = (
        "Replace the database (DATABASE_URL) and MEDIA_ROOT with those in FILE, written by `quota backup`. "
        "Refuses a database or media folder that is not empty unless --force, and a backup of the other database kind."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="An archive written by `quota backup`.")
        parser.add_argument("--force", action="store_true", help="Replace a database and media folder that hold data.")

    def handle(self, *args: Any, file: str, force: bool, **options: Any) -> None:
        try:
            report = restore(Path(file), force=force)
        except BackupError as error:
            raise CommandError(str(error)) from None
        manifest = report.manifest
        self.stdout.write(
            f"Restored the {VENDOR_NAMES[manifest.vendor]} database and {manifest.media_files} media files "
            f"from {file} (taken {manifest.created_at})."
        )
        if report.pending_migrations:
            self.stdout.write(
                f"The backup predates {len(report.pending_migrations)} migrations of this Quota: run `quota migrate` now."
            )
