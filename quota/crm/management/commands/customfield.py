"""`quota customfield`: typed fields the company adds to companies, contacts, leads or deals.

    quota customfield list [--target companies|contacts|leads|deals]
    quota customfield add --target deals KEY --label LABEL --type text|number|date|choice [--choices a,b] [--required]

Bad input exits with status 2 and adds nothing.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from quota.core.inputs import problem_lines
from quota.core.services import record_create
from quota.crm.choices import CustomFieldTarget, CustomFieldType
from quota.crm.models import CustomField

# The records a field applies to, as people name them (plural) and as they are stored.
TARGETS = {f"{target}s" if target != "company" else "companies": target for target in CustomFieldTarget.values}


class Command(BaseCommand):
    help = "List the custom fields or add one."

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True, metavar="{list,add}")
        listing = commands.add_parser("list", help="Every custom field, by the records it applies to.")
        listing.add_argument("--target", choices=sorted(TARGETS))
        add = commands.add_parser("add", help="A new custom field.")
        add.add_argument("--target", required=True, choices=sorted(TARGETS))
        add.add_argument("key", help="Letters, digits, - and _ (the key in the records' custom values).")
        add.add_argument("--label", required=True)
        add.add_argument("--type", required=True, dest="field_type", choices=CustomFieldType.values)
        add.add_argument("--choices", default="", help="For a choice field: its values, separated by commas.")
        add.add_argument("--required", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            fields = CustomField.objects.order_by("target", "position", "key")
            if options["target"]:
                fields = fields.filter(target=TARGETS[options["target"]])
            for item in fields:
                extra = f" [{', '.join(item.choices)}]" if item.choices else ""
                required = " (required)" if item.required else ""
                self.stdout.write(f"{item.target:<8} {item.key:<24} {item.field_type:<7} {item.label}{extra}{required}")
            return
        choices = [choice.strip() for choice in options["choices"].split(",") if choice.strip()]
        target = TARGETS[options["target"]]
        position = CustomField.objects.filter(target=target).count()
        try:
            item = record_create(
                model=CustomField,
                by=None,
                target=target,
                key=options["key"],
                label=options["label"],
                field_type=options["field_type"],
                choices=choices,
                required=options["required"],
                position=position,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(problem_lines(exc)), returncode=2) from None
        self.stdout.write(f"added {item.field_type} field {item.key} to {options['target']}: {item.label}")
