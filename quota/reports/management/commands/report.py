"""`quota report`: scheduled reports from the command line.

    quota report list
    quota report run NAME [--format pdf|xlsx|csv] [--out FILE] [--send]
    quota report scheduler [--once] [--interval SECONDS]

`run` renders the report now, as its scope person sees it, and writes the file (default
NAME-YYYY-MM-DD.FORMAT here); with `--send` it is also e-mailed to the recipients and kept in the
report's history. `scheduler` is the embedded default's Celery beat: every minute it runs, in this one
process, the periodic work declared in CELERY_BEAT_SCHEDULE that is due (scheduled reports, webhook
retries, early warnings, rebuilding stale KPI rollups, failing stuck imports; see core.periodic).
`--once` is one pass, for cron.
"""

from __future__ import annotations

import logging
import signal
import time
from argparse import ArgumentParser
from pathlib import Path
from types import FrameType
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections
from django.utils import timezone

from quota.core import periodic
from quota.reports import selectors, services
from quota.reports.choices import DeliveryStatus, ReportFormat
from quota.reports.models import Report

logger = logging.getLogger(__name__)


def name_default(report: Report, fmt: str) -> str:
    return f"{report.key}.{fmt}"


def one_line(error: ValidationError) -> str:
    return " ".join(" ".join(error.messages).split())


class Command(BaseCommand):
    help = "List the defined reports, render or send one now, or run the schedule (embedded default)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{list,run,scheduler}")
        actions.add_parser("list", help="Key, owner, schedule and next run of every report.")
        run = actions.add_parser("run", help="Render a report now and write the file; --send also e-mails it.")
        run.add_argument("name", help="the report's key (from `list`) or its name")
        run.add_argument("--format", default="pdf", help="pdf (default), xlsx or csv")
        run.add_argument("--out", help="the file to write (default NAME-YYYY-MM-DD.FORMAT)")
        run.add_argument("--send", action="store_true", help="also e-mail it to its recipients and keep it in the history")
        scheduler = actions.add_parser(
            "scheduler", help="Run the periodic work (scheduled reports and the rest) from this process, without Celery beat."
        )
        scheduler.add_argument("--once", action="store_true", help="one pass, then exit (for cron)")
        scheduler.add_argument("--interval", type=float, default=60.0, help="seconds between passes (default 60)")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _list(self, options: dict[str, Any]) -> None:
        reports = list(Report.objects.select_related("owner").order_by("name"))
        if not reports:
            self.stdout.write("No reports are defined.")
            return
        rows = [("key", "owner", "schedule", "next run")] + [
            (
                r.key,
                r.owner.username,
                r.schedule.describe(),
                timezone.localtime(r.next_run_at).strftime("%Y-%m-%d %H:%M %Z") if r.is_active and r.next_run_at else "paused",
            )
            for r in reports
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            self.stdout.write(
                "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[3]]).rstrip()
            )

    def _run(self, options: dict[str, Any]) -> None:
        fmt = options["format"]
        if fmt not in ReportFormat.values:
            raise CommandError(f"--format must be pdf, xlsx or csv, not {fmt!r}")
        report = selectors.report_by_name(options["name"])
        if report is None:
            known = ", ".join(Report.objects.order_by("key").values_list("key", flat=True)[:10]) or "none yet"
            raise CommandError(f"There is no report {options['name']!r} (known: {known}); `quota report list` shows them")
        try:
            name, data = self._render_or_send(report, fmt, options["send"])
        except ValidationError as error:
            raise CommandError(f"The report {report.name!r} cannot be rendered: {one_line(error)}")
        except PermissionDenied as error:
            raise CommandError(str(error))
        out = Path(options["out"] or name)
        try:
            out.write_bytes(data)
        except OSError as error:
            raise CommandError(f"Cannot write {out}: {error.strerror}")
        self.stdout.write(f"Wrote {out} ({len(data):,} bytes).")

    def _render_or_send(self, report: Report, fmt: str, send: bool) -> tuple[str, bytes]:
        if not send:
            return services.report_render(report=report, fmt=fmt)
        if fmt not in report.formats:
            raise CommandError(
                f"The report {report.name!r} is sent as {', '.join(report.formats)}, not {fmt}; choose one of those with --format"
            )
        delivery = services.report_send_here(report=report)
        if delivery.status != DeliveryStatus.SENT:
            raise CommandError(f"The report {report.name!r} was not sent: {' '.join(delivery.error.split()) or delivery.status}")
        self.stdout.write(f"Sent {report.name} to {', '.join(delivery.recipients)}.")
        stored = delivery.file_for(fmt)
        assert stored is not None
        with stored.open("rb") as file:
            return Path(stored.name or name_default(report, fmt)).name, file.read()

    def _scheduler(self, options: dict[str, Any]) -> None:
        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        interval = max(options["interval"], 1.0)
        while True:
            try:
                ran = periodic.run_due()
            except DatabaseError as error:
                if options["once"]:
                    raise CommandError(f"The scheduler could not read the database: {' '.join(str(error).split())}")
                logger.exception("Scheduler pass failed; trying again in %s s", interval)
                ran = []
            # Quiet when nothing happened (for cron): a task that did something returns how much.
            done = [item for item in ran if item.failed or item.result] if options["verbosity"] < 2 else ran
            if done:
                said = ", ".join(f"{item.name}: {'failed' if item.failed else item.result}" for item in done)
                self.stdout.write(f"{timezone.localtime():%Y-%m-%d %H:%M:%S} {said}")
            if options["once"]:
                return
            deadline = time.monotonic() + interval
            while not stopping and time.monotonic() < deadline:
                time.sleep(min(1.0, deadline - time.monotonic()))
            if stopping:
                return
            close_old_connections()  # a long-running process: drop a connection the server may have closed meanwhile
