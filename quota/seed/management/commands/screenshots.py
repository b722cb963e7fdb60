"""`quota screenshots`: every dashboard in every language at 1440 and 390 px, as PNGs under var/screenshots/.

Against the configured database (seed it first: `quota seed --size demo`), served by an in-process server
unless `--url` names a running one; signs in with the demo logins. Lists what overflows on each page, the
same checks as the browser tests (e2e/test_layout.py), and exits 1 when anything does.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test.utils import override_settings

from quota.dashboards.screenshots import LANGUAGES, PAGES, SCREENSHOT_WIDTHS, capture, chromium, served
from quota.seed.people import DEMO_PASSWORD

OUT = Path(settings.BASE_DIR) / "var" / "screenshots"
# The in-process server speaks plain HTTP and serves the static files from the source tree (no collectstatic).
SERVED = {
    "STORAGES": {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    },
    "SECURE_SSL_REDIRECT": False,
    "SESSION_COOKIE_SECURE": False,
    "CSRF_COOKIE_SECURE": False,
}


def _listed(text: str, known: tuple[Any, ...], what: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [part for part in chosen if part not in {str(k) for k in known}]
    if unknown or not chosen:
        raise CommandError(f"unknown {what} {', '.join(unknown) or '(none)'}: choose from {', '.join(map(str, known))}")
    return chosen


def _widths(text: str) -> tuple[int, ...]:
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts or not all(part.isdigit() and 200 <= int(part) <= 4000 for part in parts):
        raise CommandError(f"--widths takes pixel widths from 200 to 4000, like 1440,390, not {text!r}")
    return tuple(int(part) for part in parts)


class Command(BaseCommand):
    help = "Screenshots of every dashboard in every language and width (var/screenshots/<page>-<language>-<width>.png)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", help="a running Quota to photograph (default: serve this database in-process)")
        parser.add_argument("--out", type=Path, default=OUT, help=f"the folder for the PNGs (default {OUT})")
        parser.add_argument("--languages", default=",".join(LANGUAGES), help="comma-separated (default: all four)")
        parser.add_argument("--widths", default=",".join(map(str, SCREENSHOT_WIDTHS)), help="comma-separated pixels")
        parser.add_argument("--pages", default=",".join(p.name for p in PAGES), help="comma-separated page names")
        parser.add_argument("--password", default=DEMO_PASSWORD, help="the demo logins' password")
        parser.add_argument("--chromium", default=os.environ.get("QUOTA_CHROMIUM", "/usr/bin/chromium"))

    def handle(self, *args: Any, **options: Any) -> None:
        languages = _listed(options["languages"], LANGUAGES, "language")
        widths = _widths(options["widths"])
        names = _listed(options["pages"], tuple(p.name for p in PAGES), "page")
        pages = tuple(p for p in PAGES if p.name in names)
        if not Path(options["chromium"]).exists():
            raise CommandError(f"{options['chromium']} is missing: apt-get install chromium (or set QUOTA_CHROMIUM)")
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop shares this thread
        if options["url"]:
            failures = self._photograph(options["url"].rstrip("/"), options, languages, widths, pages)
        else:
            with override_settings(**SERVED), served() as base_url:
                failures = self._photograph(base_url, options, languages, widths, pages)
        if failures:
            raise CommandError(f"{failures} screenshot(s) show content that overflows (listed above)")

    def _photograph(self, base_url: str, options: dict[str, Any], languages: Any, widths: Any, pages: Any) -> int:
        failures = 0
        with chromium(options["chromium"]) as browser:
            shots = capture(
                browser, base_url, options["out"], password=options["password"], languages=languages, widths=widths, pages=pages
            )
            for path, problems in shots:
                self.stdout.write(f"{path}{'' if not problems else '  OVERFLOWS:'}")
                for problem in problems:
                    self.stdout.write(f"    {problem}")
                failures += bool(problems)
        return failures
