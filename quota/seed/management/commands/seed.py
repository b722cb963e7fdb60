"""`quota seed`: fill the database with the generated demo company."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from quota.seed.database import FlushRefused, describe, existing_rows
from quota.seed.people import DEMO_LOGINS, DEMO_PASSWORD
from quota.seed.reference import MissingReferenceData
from quota.seed.runner import DatabaseNotEmpty, DatabaseNotMigrated, SeedReport, require_migrated, seed_company
from quota.seed.sizes import BadArgument


def iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--today must be a date like 2025-03-31, not {text!r}") from None


def one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


class Command(BaseCommand):
    help = (
        "Fill an empty database with a generated demo company: two years of sales, service and marketing "
        "history ending today. The same --seed and --today always give the same data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--size", default="demo", help="demo (3,000 deals), large (1,000,000 deals) or a number of deals")
        parser.add_argument("--seed", type=int, default=1, help="the random seed (default 1)")
        parser.add_argument("--today", type=iso_date, default=None, help="the last day of history, YYYY-MM-DD (default today)")
        parser.add_argument("--if-empty", action="store_true", help="if the database already has data, say so and do nothing")
        parser.add_argument("--flush", action="store_true", help="delete all CRM data (people included) before seeding")
        parser.add_argument(
            "--no-progress", action="store_true", help="no progress bars (they are off when stderr is not a terminal)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and options["flush"]:
            raise CommandError("--if-empty and --flush contradict each other: use one of them")
        today = options["today"]
        if isinstance(today, str):  # call_command passes options unparsed
            try:
                today = iso_date(today)
            except argparse.ArgumentTypeError as error:
                raise CommandError(str(error))
        try:
            if options["if_empty"]:
                require_migrated()
                existing = existing_rows()
                if existing:
                    self.stdout.write(f"Not seeding: the database already has data ({describe(existing)}).")
                    return
            if options["flush"]:
                from quota.kpi import rollups

                rollups.drop()  # derived from the records --flush deletes; rebuilt after seeding
            report = seed_company(
                size=options["size"],
                seed=options["seed"],
                today=today,
                flush=options["flush"],
                progress=not options["no_progress"] and sys.stderr.isatty(),
            )
        except DatabaseNotEmpty as error:
            raise CommandError(f"Not seeding: {error}; add --flush to replace it, or --if-empty to leave it as it is")
        except (BadArgument, DatabaseNotMigrated, MissingReferenceData, FlushRefused) as error:
            raise CommandError(f"Cannot seed: {one_line(error)}")
        except Exception as error:  # one line for scripts; --traceback shows the chained cause
            raise CommandError(f"Seeding failed and nothing was written: {type(error).__name__}: {one_line(error)}") from error
        self._summarise(report, options["seed"])
        self._finish(report)

    def _finish(self, report: SeedReport) -> None:
        """What the demo company has besides records: its scheduled report, KPI rollups built for its data, and
        targets with the early warnings the product raised about them (read through the rollups), and the
        notifications of work due and stale deals its hourly check raised this morning."""
        from django.conf import settings

        from quota.kpi import rollups
        from quota.reports.demo import ensure_demo_reports
        from quota.seed.clock import Clock
        from quota.seed.early_warnings import seed_targets_and_warnings
        from quota.seed.notifications import seed_due_work_notifications

        ensure_demo_reports()
        rollups.rebuild()  # the bulk load bypassed the ORM, so the rollups must be built from the records
        clock = Clock.ending(report.today, settings.TIME_ZONE)
        seeded = seed_targets_and_warnings(clock=clock)
        self.stdout.write(f"Targets: {seeded.targets:,}; early warnings raised: {seeded.notifications:,}")
        due = seed_due_work_notifications(clock=clock)
        self.stdout.write(f"Notifications of work due and stale deals: {due:,}")

    def _summarise(self, report: SeedReport, seed: int) -> None:
        write = self.stdout.write
        write(f"Seeded {report.scale.label} (seed {seed}, history up to {report.today.isoformat()}):")
        for table, rows in report.rows.items():
            write(f"  {table:<30} {rows:>12,}")
        write(f"  {'total':<30} {report.total:>12,} rows in {report.seconds:.1f} s ({report.rows_per_second:,.0f} rows/s)")
        write(f"Demo logins (password {DEMO_PASSWORD!r}): {', '.join(DEMO_LOGINS)}")
