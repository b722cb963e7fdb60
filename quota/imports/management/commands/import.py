"""`quota import`: import a file with a column mapping, or a known set of files with a preset.

    quota import --preset maven-crm DIR [--dry-run] [--on-duplicate skip|update]
    quota import FILE --into deals --map 'Opportunity=external_id,Value=amount' [--set pipeline=Sales]
    quota import FILE --into deals --mapping my-mapping.toml
    quota import --into deals --fields          (what can be mapped)
    quota import FILE --into leads --map 'Origin=source,...' --create-missing --blank-as-group

--create-missing creates the lead sources, loss reasons and custom fields (`custom.<key>`, typed from the
column's values) that the file names and Quota lacks; a dry run lists them and creates nothing.

The report goes to stdout (text, or JSON with --format json); a failure also ends with a one-line
reason on stderr and exit code 1 (2 for a wrong command line).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from quota.imports.engine import ImportOptions
from quota.imports.mapping import DUPLICATE_MODES, MappingError, StepMapping
from quota.imports.presets import PresetError, available
from quota.imports.report import render_text
from quota.imports.services import import_file, import_preset, save_mapping, saved_mapping
from quota.imports.targets import TARGETS, target_named

USAGE_ERROR = 2


class Command(BaseCommand):
    help = "Import CSV or XLSX files into Quota: one file with a column mapping, or a preset's set of files."
    # An import serves no requests; skipping the system checks keeps its output to the report and,
    # on failure, one line (a check warning elsewhere in the project would come first otherwise).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", help="the file to import, or with --preset the folder holding the files")
        parser.add_argument("--preset", help=f"a known file set: {', '.join(available())}")
        parser.add_argument("--into", choices=sorted(TARGETS), help="the kind of record the file holds")
        parser.add_argument("--map", action="append", default=[], help="'Column=field,Column2=field2'")
        parser.add_argument("--set", action="append", default=[], help="constant values: 'field=value,...'")
        parser.add_argument(
            "--template", action="append", default=[], help="text from columns: 'title={Product}[ for {Account}]'"
        )
        parser.add_argument("--default", action="append", default=[], help="values for blank cells: 'field=value,...'")
        parser.add_argument("--values", action="append", default=[], help="translate a field's values: 'field:From=To,From=To'")
        parser.add_argument(
            "--fix", action="append", default=[], help="correct a column's known misspellings: 'column:Wrong=Right'"
        )
        parser.add_argument("--mapping", help="a mapping file (.toml or .json) or the name of a saved mapping")
        parser.add_argument("--save-mapping", metavar="NAME", help="keep the mapping under this name after a successful import")
        parser.add_argument("--match", help="fields that identify an existing record, e.g. 'external_id,email'")
        parser.add_argument("--currency", help="the currency of the file's amounts (default: the company currency)")
        parser.add_argument("--sheet", help="XLSX: the sheet to read (default: the first)")
        parser.add_argument("--encoding", help="CSV: the text encoding, if detection gets it wrong")
        parser.add_argument("--delimiter", help="CSV: the delimiter, if sniffing gets it wrong")
        parser.add_argument("--dry-run", action="store_true", help="check everything and report, write nothing")
        parser.add_argument("--on-duplicate", choices=DUPLICATE_MODES, default="skip", help="skip (default) or update")
        parser.add_argument(
            "--create-missing",
            action="store_true",
            help="create the lead sources, loss reasons and custom fields the file names that do not exist yet",
        )
        parser.add_argument(
            "--blank-as-group",
            action="store_true",
            help=(
                "a blank lead source, or a lost deal's blank loss reason, is the one named '(blank)' "
                "(created if missing with --create-missing)"
            ),
        )
        parser.add_argument("--skip-bad-rows", action="store_true", help="import the good rows even if some rows have errors")
        parser.add_argument("--format", choices=("text", "json"), default="text")
        parser.add_argument("--fields", action="store_true", help="list the fields of --into and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["fields"]:
            self._list_fields(options["into"])
            return
        run_options = ImportOptions(
            dry_run=options["dry_run"],
            on_duplicate=options["on_duplicate"],
            skip_bad_rows=options["skip_bad_rows"],
            create_missing=options["create_missing"],
            blank_as_group=options["blank_as_group"],
        )
        if not options["path"]:
            raise CommandError("give the file to import (or the folder, with --preset)", returncode=USAGE_ERROR)
        if options["preset"]:
            try:
                report = import_preset(options["preset"], options["path"], options=run_options)
            except PresetError as exc:
                raise CommandError(str(exc), returncode=USAGE_ERROR) from exc
        else:
            mapping = self._mapping(options)
            report = import_file(
                Path(options["path"]),
                mapping=mapping,
                options=run_options,
                sheet=options["sheet"],
                encoding=options["encoding"],
                delimiter=options["delimiter"],
            )
            if report.ok and options["save_mapping"] and not run_options.dry_run:
                save_mapping(name=options["save_mapping"], mapping=mapping)
        if options["format"] == "json":
            self.stdout.write(json.dumps(report.as_dict(), indent=2, ensure_ascii=False, default=str))
        else:
            self.stdout.write(render_text(report), ending="")
        if not report.ok:
            raise CommandError(f"import {report.status}: {report.reason}", returncode=1)

    def _mapping(self, options: dict[str, Any]) -> StepMapping:
        base = self._mapping_file(options["mapping"], options["into"]) if options["mapping"] else None
        into = options["into"] or (base.into if base else None)
        if not into:
            raise CommandError("say which records the file holds with --into (or use --preset)", returncode=USAGE_ERROR)
        if base is None and not options["map"]:
            raise CommandError("map the file's columns with --map 'Column=field,...' or --mapping FILE", returncode=USAGE_ERROR)
        try:
            return StepMapping.from_command_line(
                into=into,
                columns=options["map"],
                constants=options["set"],
                templates=options["template"],
                defaults=options["default"],
                values=options["values"],
                fixes=options["fix"],
                match=options["match"],
                currency=options["currency"],
                base=base,
            )
        except MappingError as exc:
            raise CommandError(str(exc), returncode=USAGE_ERROR) from exc

    def _mapping_file(self, reference: str, into: str | None) -> StepMapping:
        path = Path(reference)
        try:
            if path.suffix.lower() in (".toml", ".json") and path.is_file():
                text = path.read_text(encoding="utf-8")
                data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
                return StepMapping.from_dict(data, into=into)
            saved = saved_mapping(reference)
        except (OSError, ValueError) as exc:  # tomllib, json and MappingError are ValueErrors
            raise CommandError(f"mapping {reference}: {exc}", returncode=USAGE_ERROR) from exc
        if saved is None:
            raise CommandError(f"there is no mapping file or saved mapping called {reference!r}", returncode=USAGE_ERROR)
        return saved

    def _list_fields(self, into: str | None) -> None:
        if not into:
            raise CommandError("--fields needs --into", returncode=USAGE_ERROR)
        target = target_named(into)
        self.stdout.write(f"{into}: duplicates are found by {', '.join(target.match_fields)}")
        for name, spec in sorted(target.fields().items()):
            extra = f" -> {spec.related._meta.verbose_name}" if spec.related else ""
            choices = f" [{', '.join(v for v, _ in spec.choices)}]" if spec.choices else ""
            self.stdout.write(f"  {name:24} {spec.kind.value}{extra}{choices}{'  (required)' if spec.required else ''}")
