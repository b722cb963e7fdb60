"""`quota notify check`: warn about targets behind pace and stalling reps now (beat runs it every hour)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from quota.notifications.services import early_warnings_check


class Command(BaseCommand):
    help = "Early warnings: targets behind pace and reps with falling activity (each person is told once)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{check}")
        actions.add_parser("check", help="Run the checks now and notify the people concerned.")

    def handle(self, *args: Any, **options: Any) -> None:
        sent = early_warnings_check()
        self.stdout.write(
            f"Notified: {sent['targets_behind']} about targets behind pace, {sent['targets_unlikely']} about targets "
            f"the forecast finds unlikely, {sent['pipelines_thin']} about thin pipelines, {sent['reps_stalling']} about "
            "stalling reps."
        )
