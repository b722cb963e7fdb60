"""Browser tests: Playwright driving Debian's Chromium against a live Quota server.

Chromium comes from apt (`/usr/bin/chromium`), never from `playwright install`. Without it the
tests are skipped with that reason; CI installs it, so there they always run.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("QUOTA_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
PASSWORD = "demo-pass"

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.fixture(autouse=True)
def _clock_clear_of_midnight():
    """A journey must not straddle a day (so a month or year) boundary: move the clock past one that is near."""
    from django.utils import timezone

    from quota.testing.clock import clear_of_midnight, clock_at

    with clock_at(clear_of_midnight(timezone.now(), timezone.get_default_timezone())):
        yield


@pytest.fixture(autouse=True)
def builtin_data(transactional_db):
    """The built-in sources, pipeline and loss reasons: a transactional test's flush removes what migrations made."""
    from quota.testing.reference_data import restore_migrated_data

    restore_migrated_data()


@pytest.fixture
def rep(transactional_db):
    """A rep of the north team who signs in as "rep" with the demo password."""
    from quota.accounts.models import Role, Team
    from quota.testing.factories import UserFactory

    return UserFactory(username="rep", role=Role.REP, team=Team.objects.create(name="North"), password=PASSWORD)


def log_in(page, base_url: str, username: str) -> None:
    """Sign `username` in through the login form (every test user's password is PASSWORD)."""
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
