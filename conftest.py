import pytest

from quota.testing.hypothesis import load_profile

# Hypothesis: the same examples on every CI run, new ones locally (see quota/testing/hypothesis.py).
load_profile()

# A test that runs wholly at a moment it pins (quota.testing.clock.clock_at, time-machine) uses a fixture of this
# name or carries the marker of this name (a module whose world is built at a pinned moment).
PINNED_CLOCK = "pinned_clock"


def pytest_addoption(parser):
    parser.addoption(
        "--unpinned-clock-only",
        action="store_true",
        help=f"leave out the tests that run wholly at a pinned moment (fixture or marker {PINNED_CLOCK!r}): "
        "a run under another process clock (libfaketime) can tell nothing new about them",
    )
    parser.addoption(
        "--database-only",
        action="store_true",
        help="leave out the tests that never reach the database (pytest-django refuses them any access): "
        "a run on another database can tell nothing new about them",
    )


def _pinned(item) -> bool:
    return PINNED_CLOCK in getattr(item, "fixturenames", ()) or item.get_closest_marker(PINNED_CLOCK) is not None


# The fixtures through which a test reaches the database (pytest-django's; any fixture that needs one of them
# brings it into the test's fixture closure). Not django_db_blocker: pytest-django's autouse fixtures bring it into
# every test's, and it only lets through a test that also has one of these or a module fixture built with them.
DATABASE_FIXTURES = frozenset(
    {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback", "django_db_setup"}
)


def _uses_database(item) -> bool:
    if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())) or item.get_closest_marker("django_db"):
        return True
    from django.test import SimpleTestCase

    cls = getattr(item, "cls", None)  # Django's TestCase and TransactionTestCase name the databases they use
    return cls is not None and issubclass(cls, SimpleTestCase) and bool(cls.databases)


def _leave_out(config, items, left_out) -> None:
    dropped = [item for item in items if left_out(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not left_out(item)]


def pytest_collection_modifyitems(config, items):
    if config.getoption("--unpinned-clock-only"):
        _leave_out(config, items, _pinned)
    if config.getoption("--database-only"):
        _leave_out(config, items, lambda item: not _uses_database(item))


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language.

    A request in another language leaves it active on the thread (LocaleMiddleware activates the user's language and
    nothing deactivates it), so without this a test that checks an English message failed whenever xdist happened to
    run it after such a request on the same worker.
    """
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


def _flushes_the_database(item: pytest.Item) -> bool:
    """Whether the test runs outside a transaction, so that its teardown flushes every table."""
    from pytest_django.fixtures import validate_django_db

    marker = item.get_closest_marker("django_db")
    if marker is not None:
        transaction, reset_sequences, *_ = validate_django_db(marker)  # the marker read as pytest-django reads it
        if transaction or reset_sequences:
            return True
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    """The rows migrations made (default pipeline, built-in sources, loss and churn reasons, KPI catalogue), made
    again after a transactional test's flush.

    The tests that follow on the same worker expect a freshly migrated database, and which tests follow depends on
    how xdist hands them out: under another distribution, dashboards and forecasting tests that ran after a flush
    failed for want of the default pipeline. A hook rather than a fixture, because the flush of a
    `django_db(transaction=True)` marker is torn down after every fixture a conftest can declare. Not after the
    session's last test (`nextitem` None): by then the test database is gone and the connection names the real one.
    """
    result = yield
    if nextitem is not None and _flushes_the_database(item):
        from pytest_django.plugin import blocking_manager_key

        from quota.testing.reference_data import restore_migrated_data

        with item.config.stash[blocking_manager_key].unblock():
            restore_migrated_data()
    return result


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (team membership is cached)."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def people(db):
    """Two sales teams: north (a rep and a teammate) and south (one rep), and a director over both.

    The usual cast of the visibility tests; a module that needs others defines its own `people`.
    """
    from quota.accounts.models import Role, Team
    from quota.testing.factories import UserFactory

    north, south = Team.objects.create(name="North"), Team.objects.create(name="South")
    return {
        "rep": UserFactory(team=north),
        "teammate": UserFactory(team=north),
        "south_rep": UserFactory(team=south),
        "director": UserFactory(team=None, role=Role.DIRECTOR),
    }
