"""`quota leadsource`: where leads come from.

    quota leadsource list
    quota leadsource add KEY --name NAME [--direction inbound|outbound]

Bad input exits with status 2 and adds nothing.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from quota.core.inputs import problem_lines
from quota.core.services import record_create
from quota.crm.choices import LeadDirection
from quota.crm.models import LeadSource


class Command(BaseCommand):
    help = "List the lead sources or add one."

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True, metavar="{list,add}")
        commands.add_parser("list", help="Key and name of every lead source.")
        add = commands.add_parser("add", help="A new lead source.")
        add.add_argument("key", help="Letters, digits, - and _ (used in imports and web forms).")
        add.add_argument("--name", required=True)
        add.add_argument("--direction", choices=LeadDirection.values, default="", help="Who reached out: the lead or us.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            for source in LeadSource.objects.order_by("key"):
                built_in = "  (built in)" if source.is_system else ""
                self.stdout.write(f"{source.key:<24} {source.direction or '-':<9} {source.name}{built_in}")
            return
        try:
            source = record_create(
                model=LeadSource, by=None, key=options["key"], name=options["name"], direction=options["direction"]
            )
        except ValidationError as exc:
            raise CommandError("; ".join(problem_lines(exc)), returncode=2) from None
        direction = f" ({source.direction})" if source.direction else ""
        self.stdout.write(f"added lead source {source.key}: {source.name}{direction}")
