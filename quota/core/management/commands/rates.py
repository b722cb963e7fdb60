"""`quota rates`: exchange rates into the company currency, for records in other currencies.

    quota rates add CURRENCY RATE --date YYYY-MM-DD   (company currency per unit, from that day; replaces that day's)
    quota rates list [--currency CODE]
    quota rates import FILE.csv                      (date,currency,rate or the ECB's eurofxref-hist.csv)

Bad input exits with status 2 and writes nothing; an import with one bad row imports none.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from quota.core import rates
from quota.core.money import company_currency

SHOWN_ERRORS = 30


class Command(BaseCommand):
    help = "Add, list or import exchange rates (company currency per unit of another currency)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True, metavar="{add,list,import}")
        add = commands.add_parser("add", help="One rate, valid from a day on.")
        add.add_argument("currency")
        add.add_argument("rate", help="Company currency per unit of CURRENCY.")
        add.add_argument("--date", required=True, help="The day it is valid from (YYYY-MM-DD).")
        listing = commands.add_parser("list", help="Every rate, by currency and day.")
        listing.add_argument("--currency")
        load = commands.add_parser("import", help="A CSV of dated rates: date,currency,rate or the ECB's wide layout.")
        load.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"do_{options['action']}")(options)

    def do_add(self, options: dict[str, Any]) -> None:
        try:
            row, created = rates.rate_set(currency=options["currency"], rate=options["rate"], day=options["date"])
        except ValueError as exc:
            raise CommandError(str(exc), returncode=2) from None
        verb = "added" if created else "replaced"
        self.stdout.write(f"{verb}: 1 {row.currency} = {row.rate} {company_currency()} from {row.valid_from}")

    def do_list(self, options: dict[str, Any]) -> None:
        for row in rates.rate_rows(options["currency"]):
            self.stdout.write(f"{row.currency}  {row.valid_from}  {row.rate}")

    def do_import(self, options: dict[str, Any]) -> None:
        try:
            with open(options["file"], encoding="utf-8-sig") as file:
                text = file.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {options['file']}: {exc}", returncode=2) from None
        try:
            read, added, replaced = rates.rates_import(text)
        except ValidationError as exc:
            problems = exc.messages
            shown = "\n  ".join(problems[:SHOWN_ERRORS])
            more = f"\n  ... and {len(problems) - SHOWN_ERRORS} more" if len(problems) > SHOWN_ERRORS else ""
            raise CommandError(f"nothing imported, {len(problems)} problem(s):\n  {shown}{more}", returncode=2) from None
        self.stdout.write(f"imported {added + replaced} rates ({read.layout} layout): {added} added, {replaced} replaced")
        if read.ignored_columns:
            self.stdout.write(f"ignored currencies Quota does not keep: {', '.join(read.ignored_columns)}")
