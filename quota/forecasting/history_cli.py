"""`quota forecast waterfall`: the pipeline's waterfall from the command line (forecasting.history).

    quota forecast waterfall --from YYYY-MM-DD --to YYYY-MM-DD [--period quarter|month|YYYY-Qn|YYYY-MM]
                             [--by person|team|none] [--format table|json] [--as USERNAME]

From the start of the `--from` day to the end of the `--to` day (company time), for the pipeline expected to
close in the period: `quarter` or `month` is the one `--from` falls in (the default: its quarter), or a named
one (2026-Q2, 2026-05). Every record is read (system scope) unless `--as` names a user, whose visibility then
applies. The forecast command adds this as its `waterfall` subcommand (`add_waterfall_parser`, `run_waterfall`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from argparse import ArgumentParser
from typing import Any, TextIO

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from quota.core.calendar import local_midnight
from quota.core.inputs import EARLIEST_DAY, LATEST_DAY
from quota.forecasting.history import BY, FLOWS, Waterfall, waterfall
from quota.kpi.periods import add_months

COLUMNS = ("start", *FLOWS, "end")
HEADINGS = ("start", "new", "moved in", "increased", "decreased", "won", "lost", "moved out", "end")


def add_waterfall_parser(subparsers: Any) -> ArgumentParser:
    """The `waterfall` subcommand, added to a command's subparsers."""
    parser: ArgumentParser = subparsers.add_parser(
        "waterfall", help="How the pipeline expected in a period moved between two days, by person or team."
    )
    parser.add_argument("--from", dest="start", required=True, help="First day (YYYY-MM-DD): the pipeline as it began.")
    parser.add_argument("--to", dest="end", required=True, help="Last day (YYYY-MM-DD): the pipeline as it ended.")
    parser.add_argument(
        "--period", default="quarter", help="quarter or month (the one --from is in), or YYYY-Qn, or YYYY-MM (default quarter)"
    )
    parser.add_argument("--by", default="person", help="person, team or none (default person)")
    parser.add_argument("--format", default="table", help="table or json (default table)")
    parser.add_argument("--as", dest="username", help="Show what this user may see.")
    return parser


def run_waterfall(options: dict[str, Any], stdout: TextIO) -> Waterfall:
    """Compute and print the waterfall the options ask for; a CommandError says what is wrong with them."""
    start, end = _day(options["start"], "--from"), _day(options["end"], "--to")
    if start > end:
        raise CommandError(f"--from {start} is after --to {end}")
    by = options.get("by") or "person"
    if by not in BY:
        raise CommandError(f"--by must be one of {', '.join(BY)}, not {by!r}")
    output_format = options.get("format") or "table"
    if output_format not in {"table", "json"}:
        raise CommandError(f"--format must be table or json, not {output_format!r}")
    period_start, period_end = period_of(options.get("period") or "quarter", start)
    user = None
    if options.get("username"):
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"There is no user {options['username']!r}")
    result = waterfall(
        user=user,
        start_at=local_midnight(start),
        end_at=local_midnight(end + dt.timedelta(days=1)),
        period_start=period_start,
        period_end=period_end,
        by=by,
    )
    if output_format == "json":
        stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        _table(result, start, end, stdout)
    return result


def period_of(text: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The period's first and last day: `quarter` or `month` around `day`, or a named quarter or month."""
    if text in {"quarter", "month"}:
        first = day.replace(day=1)
        if text == "quarter":
            first = first.replace(month=(day.month - 1) // 3 * 3 + 1)
        return first, add_months(first, 3 if text == "quarter" else 1) - dt.timedelta(days=1)
    named = re.fullmatch(r"(\d{4})-Q([1-4])", text.strip(), flags=re.IGNORECASE)
    if named:
        first = dt.date(int(named[1]), (int(named[2]) - 1) * 3 + 1, 1)
        return first, add_months(first, 3) - dt.timedelta(days=1)
    month = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if month and 1 <= int(month[2]) <= 12:
        first = dt.date(int(month[1]), int(month[2]), 1)
        return first, add_months(first, 1) - dt.timedelta(days=1)
    raise CommandError(f"--period takes quarter, month, YYYY-Qn or YYYY-MM, not {text!r}")


def _day(text: str, option: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise CommandError(f"{option} takes a date as YYYY-MM-DD, not {text!r}") from None
    if not EARLIEST_DAY < day < LATEST_DAY:
        raise CommandError(f"{option} must be between {EARLIEST_DAY} and {LATEST_DAY}, not {text}")
    return day


def _table(result: Waterfall, start: dt.date, end: dt.date, stdout: TextIO) -> None:
    grouping = "in total" if result.by == "none" else f"by {result.by}"
    stdout.write(
        f"Pipeline expected to close {result.period_start} to {result.period_end}, from the start of {start} "
        f"to the end of {end}, {grouping} (company currency)\n"
    )
    rows = [] if result.by == "none" else result.rows
    lines: list[tuple[str, ...]] = [("", *HEADINGS)]
    lines += [(row.label or "-", *(str(getattr(row, c)) for c in COLUMNS)) for row in rows]
    lines.append(("company", *(str(getattr(result.total, c)) for c in COLUMNS)))
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for line in lines:
        stdout.write(
            "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths, strict=True)))
        )
        stdout.write("\n")
