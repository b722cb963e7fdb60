"""The authorization matrix (security issue #12): every page and API operation, for every role.

Generated from the URL configuration and the OpenAPI schema (see quota/testing/authorization.py):
a new page or endpoint is tried without anyone listing it, and one the policy tables cannot fill or
classify fails `test_every_route_is_known`. For each route x principal x variant x method the test
asserts the outcome of the roles table: anonymous people get the login page (the API 401/403),
refused people a 403 (the styled page for HTML) that writes nothing, allowed people 200/302, nobody
a 500; and no answer shows a record of a team the person may not read ("another team's rep" sees
nothing of North's records, in lists, exports, searches, KPI pages or the records behind them).

One world is built per module (rolled back at the end) at a fixed moment; every request runs in a
savepoint that is rolled back, so allowed writes do not change what the next request sees.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import Resolver404, resolve, reverse

from quota.core.templatetags.records import NAVIGATION
from quota.crm.models import Deal
from quota.kpi.models import Metric
from quota.testing.authorization import (
    MARKERS,
    MOMENT,
    NORTH,
    PRINCIPALS,
    SOUTH,
    Operation,
    Outcome,
    Principal,
    Route,
    UnknownParameter,
    World,
    api_model,
    api_operations,
    api_policy,
    api_routes,
    api_values,
    api_view,
    body_text,
    build_url,
    build_world,
    fill,
    lists_records,
    page_policy,
    page_routes,
    queries_for,
    reads,
)

# The world is built and asked at MOMENT (time-machine), whatever the process clock says.
pytestmark = pytest.mark.pinned_clock

LOGIN_URL = reverse(settings.LOGIN_URL)
ADMIN_LOGIN_URL = reverse("admin:login")
SIGNED_IN = [who for who in PRINCIPALS if who.signed_in]
WRITE_SQL = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b(?!.*\bdjango_session\b)", re.IGNORECASE | re.DOTALL)


class Writes:
    """Counts the statements of a request that changed rows (sessions aside): a refused request must change none."""

    def __init__(self) -> None:
        self.rows = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        result = execute(sql, params, many, context)
        if WRITE_SQL.match(sql):
            self.rows += max(context["cursor"].rowcount or 0, 0)
        return result


# API routes that are not operations of the schema: the schema and its documentation pages, the API root.
API_EXTRAS = ("schema", "docs", "redoc", "api-root")

PAGES = page_routes()
OPERATIONS = api_operations()
TRIED: list[int] = []  # pairs (principal, request) tried, summed up by the last test


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    traveller = time_machine.travel(MOMENT, tick=False)
    traveller.start()
    media = override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media"))
    media.enable()
    with django_db_blocker.unblock():
        block = transaction.atomic()
        block.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            block.__exit__(None, None, None)
    media.disable()
    traveller.stop()


@pytest.fixture(scope="module")
def sessions(world: World, django_db_blocker) -> dict[str, str]:
    """Each signed-in principal's session key, made once in the module's world (a login for each of the hundreds of
    tests cost more than a third of their set-up); a test's own rollback leaves it standing."""
    keys = {}
    with django_db_blocker.unblock():
        for who in PRINCIPALS:
            if who.signed_in:
                client = Client()
                client.force_login(world.users[who.name])
                keys[who.name] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return keys


@pytest.fixture
def clients(sessions: dict[str, str], db) -> dict[str, Client]:
    signed_in = {}
    for who in PRINCIPALS:
        client = Client()
        if who.name in sessions:
            client.cookies[settings.SESSION_COOKIE_NAME] = sessions[who.name]
        signed_in[who.name] = client
    return signed_in


# --------------------------------------------------------------------------- asking and judging


class Asker:
    """Sends one request as one principal, rolled back, and says what is wrong with the answer."""

    def __init__(self, world: World, clients: dict[str, Client]) -> None:
        self.world = world
        self.clients = clients
        self.problems: list[str] = []
        self.tried = 0

    def ask(self, who: Principal, method: str, url: str, *, api: bool = False) -> tuple[Any, bool]:
        client = self.clients[who.name]
        session = client.cookies.get(settings.SESSION_COOKIE_NAME)
        session_key = session.value if session else None
        kwargs: dict[str, Any] = {}
        if api and method != "GET":
            kwargs = {"data": json.dumps({}), "content_type": "application/json"}
        elif method == "POST":
            kwargs = {"data": {}}
        self.tried += 1
        writes = Writes()
        with connection.execute_wrapper(writes), transaction.atomic():
            try:
                response = client.generic(method, url, **kwargs) if api else getattr(client, method.lower())(url, **kwargs)
            except Exception as exc:  # a 500: said as a problem, with what was raised
                response = exc
            transaction.set_rollback(True)
        wrote = writes.rows > 0
        # Logging out (or a new session) must not turn the next requests anonymous; nor a language choice stay.
        after = client.cookies.get(settings.SESSION_COOKIE_NAME)
        if who.signed_in and (after.value if after else None) != session_key:
            client.force_login(self.world.users[who.name])
        client.cookies.pop(settings.LANGUAGE_COOKIE_NAME, None)
        return response, wrote

    def judge(self, who: Principal, expected: Outcome, method: str, url: str, *, api: bool = False, lists: bool = False) -> Any:
        response, wrote = self.ask(who, method, url, api=api)
        problem = self._problem(who, expected, method, url, response, wrote, api=api, lists=lists)
        if problem:
            self.problems.append(f"{who.name:>10} {method:<6} {url}: expected {expected.name}, {problem}")
        return response

    def _problem(
        self, who: Principal, expected: Outcome, method: str, url: str, response: Any, wrote: bool, *, api: bool, lists: bool
    ) -> str | None:
        if isinstance(response, Exception):
            return f"raised {type(response).__name__}: {response}"
        status = response.status_code
        location = response.get("Location", "")
        write = method != "GET"
        if status >= 500:
            return f"got {status}"
        if expected is Outcome.PUBLIC:
            return self._leak(who, url, response, lists=False) if 200 <= status < 300 else None
        if expected in (Outcome.DENIED, Outcome.HIDDEN, Outcome.LOGIN, Outcome.ADMIN_LOGIN, Outcome.NOOP) and wrote:
            return f"got {status} and it wrote to the database"
        if status == 405:
            return None  # the route does not take this method, whoever asks
        if expected in (Outcome.OK, Outcome.NOOP):
            allowed = {200, 201, 202, 204, 302, 400, 422} if write and expected is Outcome.OK else {200, 302}
            if status not in allowed or (status == 302 and location.startswith((LOGIN_URL, ADMIN_LOGIN_URL))):
                return f"got {status} {location}"
        elif expected is Outcome.DENIED:
            if status != 403:
                return f"got {status} {location}"
            if not api and "403.html" not in {t.name for t in response.templates}:
                return "got a 403 that is not the styled 403 page"
        elif expected is Outcome.HIDDEN:
            if status not in (403, 404):
                return f"got {status} {location}"
        elif expected is Outcome.LOGIN:
            if not (status in (401, 403) if api else status == 302 and location.startswith(LOGIN_URL)):
                return f"got {status} {location}"
        elif expected is Outcome.ADMIN_LOGIN and not (status == 302 and location.startswith(ADMIN_LOGIN_URL)):
            return f"got {status} {location}"
        elif expected is Outcome.BAD_INPUT:
            if status != 400:
                return f"got {status} {location}"
            return self._leak(who, url, response, lists=False)  # the refusal page may show the list, only what is theirs
        return self._leak(who, url, response, lists=lists) if 200 <= status < 300 else None

    @staticmethod
    def _leak(who: Principal, url: str, response: Any, *, lists: bool) -> str | None:
        text = body_text(response).lower()
        for variant, marker in MARKERS.items():
            if not reads(who, variant) and marker in text:
                return f"shows a record of the {variant} team ('{marker}')"
            searched = "q=" not in url or marker in url
            if lists and searched and reads(who, variant) and marker not in text:
                return f"does not list the {variant} team's records it should ('{marker}'), so the leak check proves nothing"
        return None

    def assert_clean(self) -> None:
        TRIED.append(self.tried)
        shown = "\n".join(self.problems[:40])
        assert not self.problems, f"{len(self.problems)} problem(s) in {self.tried} requests:\n{shown}"


# --------------------------------------------------------------------------- the route tables know every route


def test_every_route_is_known(world, db):
    """Every page has a policy and its parameters can be filled; every API route is an operation of the schema."""
    unknown = []
    for route in PAGES:
        if page_policy(route) is None:
            unknown.append(f"{route.key}: no policy in PAGE_POLICIES (who may open it?)")
            continue
        try:
            fill(route, world)
        except UnknownParameter as exc:
            unknown.append(str(exc))
    schema_names = set()
    for operation in OPERATIONS:
        if api_policy(operation) is None:
            unknown.append(f"{operation.method} {operation.path}: no API policy (who may use it?)")
        for path in api_values(operation, world).values():
            schema_names.add(resolve(path).url_name)
    for route in api_routes():
        name = (route.name or "").rpartition(":")[2]
        if name not in schema_names and name not in API_EXTRAS:
            unknown.append(f"{route.key}: an API route the OpenAPI schema does not describe")
    assert not unknown, "\n".join(unknown)


def test_the_matrix_fails_on_a_route_it_does_not_know():
    route = Route("quota:something_new", "something/<int:pk>/", ("pk",), lambda request: None)
    assert page_policy(route) is None
    with pytest.raises(UnknownParameter):
        fill(route, World(users={}))


# --------------------------------------------------------------------------- every page


def _page_id(route: Route) -> str:
    return route.key


@pytest.mark.parametrize("route", [r for r in PAGES if page_policy(r) is not None], ids=_page_id)
def test_page(route: Route, world: World, clients: dict[str, Client]):
    policy = page_policy(route)
    assert policy is not None
    asker = Asker(world, clients)
    lists = lists_records(route)
    admin_page = route.key.startswith("admin")
    for variant, values in fill(route, world).items():
        url = build_url(route, values)
        for query in queries_for(route):
            address = f"{url}?{query}" if query else url
            for who in PRINCIPALS:
                for method in ("GET", "POST"):
                    expected = policy(who, variant, method == "POST")
                    if admin_page and method == "POST" and expected is Outcome.OK:
                        continue  # the admin site's own forms are not a question of roles
                    asker.judge(who, expected, method, address, lists=lists and method == "GET")
    asker.assert_clean()


# --------------------------------------------------------------------------- every API operation


def _operation_id(operation: Operation) -> str:
    return f"{operation.method} {operation.path}"


@pytest.mark.parametrize("operation", OPERATIONS, ids=_operation_id)
def test_api_operation(operation: Operation, world: World, clients: dict[str, Client]):
    policy = api_policy(operation)
    assert policy is not None, "see test_every_route_is_known"
    asker = Asker(world, clients)
    owned = world.objects.get(api_model(api_view(operation.path)), {})
    listing = operation.method == "GET" and "{id}" not in operation.path and set(owned) == {NORTH, SOUTH}
    for variant, path in api_values(operation, world).items():
        for who in PRINCIPALS:
            response = asker.judge(who, policy(who, variant, operation.is_write), operation.method, path, api=True)
            if listing and who.signed_in and getattr(response, "status_code", None) == 200:
                ids = {row["id"] for row in response.json()["results"]}
                for team, record in owned.items():
                    if (record.pk in ids) != reads(who, team):
                        asker.problems.append(
                            f"{who.name:>10} GET    {path}: {'lists' if record.pk in ids else 'misses'} {team}'s"
                        )
    asker.assert_clean()


@pytest.mark.parametrize("name", API_EXTRAS)
def test_api_documents(name: str, world: World, clients: dict[str, Client]):
    """The schema, its documentation pages and the API root: for signed-in people (the schema tells the API's shape)."""
    asker = Asker(world, clients)
    for who in PRINCIPALS:
        asker.judge(who, Outcome.OK if who.signed_in else Outcome.LOGIN, "GET", reverse(name), api=True)
    asker.assert_clean()


# --------------------------------------------------------------------------- the menu, refusals, KPI drill-downs


@pytest.mark.parametrize("who", SIGNED_IN, ids=lambda who: who.name)
def test_the_menu_offers_only_what_opens(who: Principal, world: World, clients: dict[str, Client]):
    client = clients[who.name]
    menu = client.get(reverse("kpi:glossary")).content.decode()
    nav = menu[menu.index('class="sidenav"') :]
    for _title, entries in NAVIGATION:
        for url_name, *_rest in entries:
            url = reverse(url_name)
            status = client.get(url).status_code
            shown = f'href="{url}"' in nav
            assert shown == (status == 200), f"{who.name}: {url} answers {status} and the menu {'shows' if shown else 'hides'} it"


def test_a_refusal_is_the_styled_page_with_the_reason_and_a_way_back(world, clients):
    response = clients["rep"].get(reverse("webhooks:list"), HTTP_REFERER="http://testserver/crm/deals/")
    page = response.content.decode()
    assert response.status_code == 403
    assert 'class="sidenav"' in page and "Only an administrator or director may manage webhooks." in page
    assert 'href="http://testserver/crm/deals/"' in page and f'href="{reverse("home")}"' in page


def test_an_htmx_refusal_is_the_message_alone_and_an_api_refusal_is_json(world, clients):
    deal = world.objects[Deal][NORTH]
    response = clients["marketing"].get(reverse("crm:deal_win", args=[deal.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 403 and "<html" not in response.content.decode()
    assert "You may not change this deal" in response.content.decode()
    api = clients["viewer"].post("/api/deals/", {}, content_type="application/json")
    assert api.status_code == 403 and "read records but not create" in api.json()["detail"]


def test_kpi_drill_downs_show_only_what_the_person_reads(world, clients):
    """Every KPI page and the records behind its numbers (its list links), as each team's rep."""
    asker = Asker(world, clients)
    keys = sorted(Metric.objects.current().values_list("key", flat=True))
    linked = 0
    for who in (p for p in PRINCIPALS if p.name in {"rep", "south_rep"}):
        for key in keys:
            page = asker.judge(who, Outcome.OK, "GET", reverse("dashboards:kpi", args=[key]) + "?period=this_month&by=person")
            if isinstance(page, Exception) or page.status_code != 200:
                continue
            for href in sorted(set(re.findall(r'href="(/[^"?]+/\?[^"]*)"', page.content.decode()))):
                url = href.replace("&amp;", "&")
                try:
                    name = resolve(url.split("?")[0]).view_name
                except Resolver404:
                    continue
                if name.endswith("_list"):
                    linked += 1
                    asker.judge(who, Outcome.OK, "GET", url)
    # The records behind won revenue show each team's won deal to a director: the check can fail.
    deals = clients["director"].get(reverse("dashboards:kpi", args=["won_revenue"]) + "?period=this_month")
    behind = re.search(r'href="(/crm/deals/\?[^"]*)"', deals.content.decode())
    assert behind is not None
    listed = clients["director"].get(behind.group(1).replace("&amp;", "&")).content.decode()
    assert "Ursa won deal" in listed and "Lyra won deal" in listed
    assert linked > 20
    asker.assert_clean()


def test_a_rep_asking_for_another_teams_records_by_filter_gets_none(world, clients):
    asker = Asker(world, clients)
    south_rep = world.users["south_rep"]
    for who in (p for p in PRINCIPALS if p.name in {"rep", "manager", "viewer"}):
        for url in ("/crm/deals/", "/crm/deals/export/?format=csv", "/activities/"):
            joiner = "&" if "?" in url else "?"
            # Another team's person is no choice of the owner filter: a 400 that says so, and none of their records.
            asker.judge(who, Outcome.BAD_INPUT, "GET", f"{url}{joiner}owner={south_rep.pk}")
    asker.assert_clean()


def test_matrix_size():
    """The number of (principal, request) pairs the tests above tried (run with -s to read it)."""
    print(f"\nauthorization matrix: {sum(TRIED)} pairs tried ({len(PAGES)} page routes, {len(OPERATIONS)} API operations)")
    assert not TRIED or sum(TRIED) > 1000


def test_the_marker_search_ignores_random_tokens():
    """A CSRF token or nonce that happens to spell a marker is not a leak (it made the check flaky)."""
    from django.http import HttpResponse

    from quota.testing.authorization import body_text

    page = HttpResponse(
        '<body hx-headers=\'{"X-CSRFToken": "abcURSAdef"}\'><input name="csrfmiddlewaretoken" value="xxLyRaxx">'
        '<script nonce="ursa1">x</script>Ursa Major</body>'
    )
    text = body_text(page).lower()
    assert text.count("ursa") == 1 and "lyra" not in text
