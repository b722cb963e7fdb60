"""`quota kpi`: the KPI catalogue and values from the command line.

    quota kpi list [--format table|json]
    quota kpi eval KEY [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--every day|week|month|quarter|year|none]
                       [--by none|person|team|source|custom.<key>|company.size|...] [--format table|json]
                       [--as USERNAME] [--where DIMENSION=VALUE]... [--where JSON]
    quota kpi define KEY --name NAME --definition FILE.json [--description TEXT]
    quota kpi sync
    quota kpi rollup [--status | --drop]

`--by` and `--where` take any dimension of the KPI's source (kpi.dimensions): person, team, source, stage,
product, campaign, direction, business_type, custom.<key>, company.industry|country|size, company.custom.<key>,
contact.custom.<key>; a wrong name is answered with those there are. `--where` repeats (all must hold):
`--where custom.contract=annual --where source=website`; a JSON list of filters still works.

`eval` reads every record (system scope) unless `--as` names a user, whose visibility then applies.
Without dates it covers the 13 months up to today (this month and the twelve before it).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone

from quota.core.inputs import EARLIEST_DAY, LATEST_DAY, load_json, problem_lines
from quota.kpi import builder, rollups
from quota.kpi.definitions import UNIT_LABELS, DefinitionError, Unit
from quota.kpi.engine import GroupingNotSupported, UnknownKpi
from quota.kpi.formatting import as_text
from quota.kpi.models import Metric
from quota.kpi.periods import Every, company_zone
from quota.kpi.selectors import WhereError, default_range, kpi_values, value_rows, where_items
from quota.kpi.services import sync_catalogue


class Command(BaseCommand):
    help = "List the KPIs, evaluate one, load the built-in catalogue or build the rollups."

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True, metavar="{list,eval,define,sync,rollup}")
        listing = commands.add_parser("list", help="Key, name, unit and definition of every KPI.")
        listing.add_argument("--format", default="table")
        evaluation = commands.add_parser("eval", help="Values of one KPI per period and group.")
        evaluation.add_argument("key")
        evaluation.add_argument("--from", dest="start")
        evaluation.add_argument("--to", dest="end")
        evaluation.add_argument("--every", default="month")
        evaluation.add_argument("--by", default="none")
        evaluation.add_argument("--format", default="table")
        evaluation.add_argument("--as", dest="username", help="Evaluate what this user may see.")
        evaluation.add_argument(
            "--where",
            action="append",
            default=[],
            help='DIMENSION=VALUE (repeatable; empty VALUE: blank), or JSON: [{"field": ..., "op": ..., "value": ...}].',
        )
        define = commands.add_parser("define", help="Save a custom KPI (a new version if KEY exists) from a definition file.")
        define.add_argument("key")
        define.add_argument("--name", required=True)
        define.add_argument("--definition", required=True, metavar="FILE.json", help="The definition, as the builder saves it.")
        define.add_argument("--description", help="What is counted, by which date, for whom (default: the name).")
        commands.add_parser("sync", help="Load the built-in catalogue (migrate does it too).")
        rollup = commands.add_parser("rollup", help="Build the rollups dashboards read (after a seed or a bulk import).")
        rollup.add_argument("--status", action="store_true", help="Show which rollups are fresh, without building.")
        rollup.add_argument("--drop", action="store_true", help="Remove every rollup: KPIs then read the records.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "rollup":
            self.rollup(status=options["status"], drop=options["drop"])
            return
        if action == "define":
            self.define(options)
            return
        if action == "sync":
            report = sync_catalogue()
            self.stdout.write(
                f"created {len(report.created)}, new versions {len(report.new_versions)}, renamed {len(report.renamed)}"
            )
            return
        output_format = options["format"]
        if output_format not in {"table", "json"}:
            raise CommandError(f"--format must be table or json, not {output_format!r}")
        if action == "list":
            self.list(output_format)
        else:
            self.eval(options, output_format)

    def rollup(self, *, status: bool, drop: bool) -> None:
        if status and drop:
            raise CommandError("--status and --drop contradict each other: use one of them")
        if drop:
            rollups.drop()
            self.stdout.write("Dropped every rollup; KPIs read the records until `quota kpi rollup` builds them again.")
            return
        if status:
            leaves = rollups.rollup_leaves()
            fresh = rollups.fresh_leaves(leaves, DEFAULT_DB_ALIAS)
            by_date: dict[str, list[bool]] = {}
            for leaf in leaves:
                by_date.setdefault(f"{leaf.source}.{leaf.date}", []).append(leaf.key in fresh)
            for name, states in sorted(by_date.items()):
                self.stdout.write(f"{name:<32} {sum(states)}/{len(states)} fresh")
            return
        started = time.perf_counter()
        written = rollups.rebuild()
        for name, rows in sorted(written.items()):
            self.stdout.write(f"{name:<32} {rows:>12,} rows")
        self.stdout.write(f"built in {time.perf_counter() - started:.1f} s")

    def define(self, options: dict[str, Any]) -> None:
        """Bad input exits with status 2 and saves nothing."""
        try:
            with open(options["definition"], encoding="utf-8") as file:
                data = load_json(file.read())
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read the definition {options['definition']}: {exc}", returncode=2) from None
        description = options["description"] or options["name"]
        try:
            metric = builder.define(key=options["key"], name=options["name"], description=description, data=data, by=None)
        except ValidationError as exc:
            raise CommandError("the KPI was not saved:\n  " + "\n  ".join(problem_lines(exc)), returncode=2) from None
        self.stdout.write(f"saved {metric.key} v{metric.version}: {metric.name}")

    def list(self, output_format: str) -> None:
        metrics = list(Metric.objects.current().order_by("-is_builtin", "key"))
        rows = [
            {
                "key": m.key,
                "name": m.display_name,
                "unit": m.unit.value,
                "version": m.version,
                "definition": m.display_description,
            }
            for m in metrics
        ]
        if output_format == "json":
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        width = max((len(r["key"]) for r in rows), default=3)
        for row in rows:
            self.stdout.write(f"{row['key']:<{width}}  {row['name']} [{UNIT_LABELS[Unit(row['unit'])]}]")
            self.stdout.write(f"{'':<{width}}  {row['definition']}")

    def eval(self, options: dict[str, Any], output_format: str) -> None:
        every = _choice(options["every"], [e.value for e in Every], "--every")
        by = options["by"]
        end = _date(options["end"], "--to") if options["end"] else None
        start = _date(options["start"], "--from") if options["start"] else None
        start, end = default_range(start, end, today=timezone.localdate(timezone=company_zone()))
        if start > end:
            raise CommandError(f"--from {start} is after --to {end}")
        user = None
        if options["username"]:
            user = get_user_model().objects.filter(username=options["username"]).first()
            if user is None:
                raise CommandError(f"There is no user {options['username']!r}")
        try:
            where = where_items(options["where"]) or None
        except ValueError as exc:
            raise CommandError(f"--where takes a JSON list of filters or DIMENSION=VALUE: {exc}") from None
        try:
            result = kpi_values(options["key"], user=user, start=start, end=end, every=every, by=by, where=where)
        except (UnknownKpi, GroupingNotSupported) as exc:
            raise CommandError(str(exc)) from None
        except WhereError as exc:
            raise CommandError(f"--where: {exc}") from None
        except DefinitionError as exc:  # a definition stored before it would be refused now: refused still
            raise CommandError(f"{options['key']} cannot be computed: {exc}") from None

        rows = value_rows(result)
        if output_format == "json":
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        grouping = "in total" if by == "none" else f"by {by}"
        if options["where"]:
            grouping += f", where {' and '.join(options['where'])}"
        self.stdout.write(
            f"{result.name} ({result.key} v{result.version}), {UNIT_LABELS[result.unit]}, {start} to {end}, "
            f"{'one period' if every == 'none' else f'every {every}'}, {grouping}"
        )
        if not rows:
            nothing = "" if by == "none" else f" (no records to group by {by})"
            self.stdout.write(f"No values from {start} to {end}{nothing}.")
            self.stdout.write(f"computed at {timezone.localtime(result.computed_at):%Y-%m-%d %H:%M:%S %Z} (live)")
            return
        header = ("period", "group", "value", "previous", "last year")
        table = [header] + [
            (
                row["period"] or "all",
                p.group.label if p.group else "",
                as_text(p.value, result.unit),
                as_text(p.previous, result.unit),
                as_text(p.last_year, result.unit),
            )
            for row, p in zip(rows, result.points, strict=True)
        ]
        widths = [max(len(str(line[i])) for line in table) for i in range(len(header))]
        for line in table:
            self.stdout.write(
                "  ".join(
                    str(cell).rjust(w) if i >= 2 else str(cell).ljust(w)
                    for i, (cell, w) in enumerate(zip(line, widths, strict=True))
                )
            )
        self.stdout.write(f"computed at {timezone.localtime(result.computed_at):%Y-%m-%d %H:%M:%S %Z} (live)")


def _choice(value: str, allowed: list[str], option: str) -> str:
    if value not in allowed:
        raise CommandError(f"{option} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _date(text: str, option: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{option} takes a date as YYYY-MM-DD, not {text!r}") from None
    if not EARLIEST_DAY <= day <= LATEST_DAY:  # periods around it would overflow the calendar
        raise CommandError(f"{option} must be between {EARLIEST_DAY} and {LATEST_DAY}, not {text}")
    return day
