"""Every dashboard, the board, the deal list, a KPI page and the targets grid fit in English, Polish, Russian and Persian.

At 1280 px no table or card content overflows its card (tables fit without a scroll bar, except the targets grid
and the board, which scroll inside their card by design); at 390 px nothing scrolls the page sideways. The checks
are quota.dashboards.screenshots' (the same `quota screenshots` reports), against the seeded demo company, served
once for the module.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command

from quota.dashboards.screenshots import (
    HEIGHT,
    LANGUAGES,
    NARROW,
    PAGES,
    WIDE,
    LayoutPage,
    layout_problems,
    log_in,
    served,
    show_in,
)
from quota.seed.people import DEMO_PASSWORD
from quota.seed.runner import seed_company
from quota.testing.reference_data import restore_migrated_data

# django_db: the database is set up (each test runs in a transaction that rolls back what signing in writes);
# the demo company is seeded once for the module, outside those transactions.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture
def builtin_data():
    """The seeded company below brings its own built-in rows (this module does not flush between tests)."""


@pytest.fixture(scope="module")
def demo_url(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        restore_migrated_data()  # an earlier browser test's flush removed what migrations made; the seed reads it
        seed_company(size="demo", seed=1, flush=True)
        try:
            with served() as url:
                yield url
        finally:
            # Back to a freshly migrated database: this module is not transactional, so pytest-django does not
            # keep it for the end, and the tests after it on this worker expect the built-in rows.
            call_command("flush", interactive=False, verbosity=0)
            restore_migrated_data()


@pytest.mark.parametrize("shown", PAGES, ids=lambda p: p.name)
def test_the_page_fits_in_every_language_on_a_laptop_and_a_phone(demo_url, browser, shown: LayoutPage):
    problems = []
    for width in (WIDE, NARROW):
        context = browser.new_context(viewport={"width": width, "height": HEIGHT})
        try:
            page = log_in(context, demo_url, shown.username, DEMO_PASSWORD)
            for language in LANGUAGES:
                show_in(page, demo_url, shown.path, language)
                assert page.get_attribute("html", "lang") == language
                problems += [f"{language} at {width}px: {problem}" for problem in layout_problems(page)]
        finally:
            context.close()
    assert not problems, "\n".join(problems)
