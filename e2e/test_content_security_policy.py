"""The Content-Security-Policy in a real browser: the dashboards (HTMX, ECharts), the board, lists, the
admin and the API docs load and work without a single CSP violation in Chromium's console."""

import datetime as dt
from decimal import Decimal

import pytest

from quota.accounts.models import Role, Team
from quota.crm.services import deal_close_won
from quota.testing.factories import CallFactory, DealFactory, UserFactory

from .conftest import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/",
    "/dashboards/sales/",
    "/dashboards/marketing/",
    "/dashboards/service/",
    "/dashboards/kpi/won_revenue/",
    "/dashboards/builder/",
    "/dashboards/targets/",
    "/crm/board/",
    "/crm/deals/",
    "/webhooks/",
    "/admin/",
    "/admin/axes/accessattempt/",
    "/api/docs/",
    "/api/redoc/",
]
# Redoc's page asks Google Fonts and Redocly's CDN for its fonts and logo: blocked on purpose (Quota's pages
# contact no third party), and it renders with the system fonts. Anything else blocked is a fault.
THIRD_PARTIES_BLOCKED_ON_PURPOSE = {"/api/redoc/": ("https://fonts.googleapis.com/", "https://cdn.redoc.ly/")}
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"} (${where})`);
});
"""


@pytest.fixture
def director():
    team = Team.objects.create(name="North")
    rep = UserFactory(username="rep", role=Role.REP, team=team)
    now = dt.datetime.now(dt.UTC)
    for days in (3, 40, 75):
        deal = DealFactory(owner=rep, amount=Decimal("1200"), created_at=now - dt.timedelta(days=days + 10))
        deal_close_won(deal=deal, by=rep, at=now - dt.timedelta(days=days))
        CallFactory(owner=rep, occurred_at=now - dt.timedelta(days=days))
    return UserFactory(username="boss", role=Role.ADMIN, team=None, is_staff=True, is_superuser=True, password=PASSWORD)


@pytest.fixture
def watched(page):
    """The page, recording every CSP violation: console errors and `securitypolicyviolation` events."""
    console = []
    page.on("console", lambda message: console.append(message.text) if "Content Security Policy" in message.text else None)
    page.add_init_script(RECORD_VIOLATIONS)
    page.console_violations = console
    return page


def violations(page) -> list[str]:
    return page.console_violations + page.evaluate("window.__cspViolations || []")


def test_no_page_breaks_the_content_security_policy(watched, live_server, director):
    page = watched
    log_in(page, live_server.url, "boss")
    found = {}
    for path in PAGES:
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.ok, path
        assert "content-security-policy" in response.headers, path
        page.wait_for_load_state("networkidle")
        expected = THIRD_PARTIES_BLOCKED_ON_PURPOSE.get(path, ())
        unexpected = [text for text in violations(page) if not any(host in text for host in expected)]
        if unexpected:
            found[path] = unexpected
    assert not found, "\n".join(f"{path}: {violation}" for path, seen in found.items() for violation in seen)


def test_dashboard_charts_draw_and_htmx_swaps_under_the_policy(watched, live_server, director):
    page = watched
    log_in(page, live_server.url, "boss")
    page.goto(f"{live_server.url}/dashboards/kpi/won_revenue/")
    chart = page.locator("[data-chart] svg").first
    chart.wait_for()  # ECharts drew (its SVG renderer)
    chart.hover()  # its tooltip styles itself
    with page.expect_response(lambda response: "by=" in response.url):
        page.locator("nav.small-tabs a:not([aria-current])").first.click()  # an HTMX swap of the breakdown
    page.wait_for_load_state("networkidle")
    with page.expect_navigation():
        page.select_option("select[name=language]", "pl")  # data-autosubmit, no inline handler
    assert page.get_attribute("html", "lang") == "pl"
    assert violations(page) == []
