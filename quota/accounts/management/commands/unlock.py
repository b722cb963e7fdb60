"""`quota unlock USERNAME` / `quota unlock --ip ADDRESS`: end a login lockout now.

The same as deleting the user's rows in Administration > Axes > Access attempts (or django-axes'
`axes_reset_username`), under a name that stays stable.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from quota.accounts.lockout import unlock


class Command(BaseCommand):
    help = "End the login lockout of USERNAME (or of an address with --ip): forget their failed log-in attempts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", nargs="?", help="The username that is locked out.")
        parser.add_argument("--ip", dest="ip_address", help="Unlock a client address instead (or as well).")

    def handle(self, *args: Any, username: str | None, ip_address: str | None, **options: Any) -> None:
        if not username and not ip_address:
            raise CommandError("Name the USERNAME to unlock (or an address with --ip).")
        forgotten = unlock(username=username, ip_address=ip_address)
        who = " and ".join(part for part in (username, ip_address) if part)
        if forgotten:
            self.stdout.write(f"Unlocked {who}: forgot {forgotten} record(s) of failed log-ins.")
        else:
            self.stdout.write(f"{who} had no failed log-ins on record: nothing to unlock.")
