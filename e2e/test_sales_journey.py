"""A rep's day in the browser: log in, create a lead, convert it, drag the deal across the board, win it."""

import calendar
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from quota.accounts.models import Role, Team
from quota.crm.models import Deal, DealStageChange, Lead
from quota.kpi.models import Metric, Target
from quota.testing.factories import UserFactory

from .conftest import PASSWORD, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people():
    team = Team.objects.create(name="North")
    rep = UserFactory(username="rep", role=Role.REP, team=team, password=PASSWORD)
    director = UserFactory(username="director", role=Role.DIRECTOR, team=None, password=PASSWORD)
    return {"rep": rep, "director": director}


def set_language(page, base_url: str, code: str) -> None:
    with page.expect_navigation():
        page.select_option("select[name=language]", code)  # the switcher submits itself


def html_direction(page) -> tuple[str, str]:
    return page.get_attribute("html", "lang"), page.get_attribute("html", "dir")


def run_journey(page, base_url: str, *, title: str, language: str) -> Deal:
    log_in(page, base_url, "rep")
    if language != "en":
        set_language(page, base_url, language)
    expected_dir = "rtl" if language == "fa" else "ltr"
    assert html_direction(page) == (language, expected_dir)

    # A new lead from a phone call.
    page.goto(f"{base_url}/crm/leads/new/")
    page.fill("#id_title", title)
    page.fill("#id_last_name", "Kowalska")
    page.fill("#id_company_name", f"{title} Ltd")
    page.select_option("#id_source", index=1)
    page.click("form.record-form button[type=submit], form button.primary")
    page.wait_for_url(re.compile(r"/crm/leads/\d+/$"))
    assert html_direction(page) == (language, expected_dir)
    lead = Lead.objects.get(title=title)

    # Convert it into a deal.
    page.click(f"a[href$='/crm/leads/{lead.pk}/convert/']")
    page.fill("#id_amount", "4200")
    page.click("form button.primary")
    page.wait_for_url(re.compile(r"/crm/deals/\d+/$"))
    deal = Deal.objects.get(lead=lead)
    assert deal.status == "open" and deal.stage.position == 1

    # Drag it to the next stage on the board.
    second = deal.pipeline.stages.order_by("position")[1]
    page.goto(f"{base_url}/crm/board/")
    assert html_direction(page) == (language, expected_dir)
    card = page.locator(f".deal-card[data-deal='{deal.pk}']")
    card.drag_to(page.locator(f".board-column[data-stage='{second.pk}']"))
    page.locator(f".board-column[data-stage='{second.pk}'] .deal-card[data-deal='{deal.pk}']").wait_for()
    deal.refresh_from_db()
    assert deal.stage == second
    assert DealStageChange.objects.filter(deal=deal, to_stage=second, from_stage__position=1).exists()

    # Win it.
    page.goto(f"{base_url}/crm/deals/{deal.pk}/")
    page.click(f"a[href$='/crm/deals/{deal.pk}/win/']")
    with page.expect_navigation(url=re.compile(rf"/crm/deals/{deal.pk}/$")):
        page.click(f"form[action$='/crm/deals/{deal.pk}/win/'] button.primary")
    deal.refresh_from_db()
    assert deal.status == "won" and deal.closed_at is not None
    assert html_direction(page) == (language, expected_dir)
    return deal


def card_text(page, base_url: str, username: str, kpi: str, part: str) -> str:
    """What a dashboard card shows, as the user sees it after logging in."""
    page.context.clear_cookies()
    log_in(page, base_url, username)
    return page.locator(f"article.kpi-card[data-kpi='{kpi}'] {part}").first.inner_text().strip()


def test_rep_journey_moves_the_dashboards(page, live_server, people):
    today = timezone.localdate()
    Target.objects.create(
        metric=Metric.objects.get(key="won_revenue", is_current=True),
        user=people["rep"],
        period="month",
        start=today.replace(day=1),
        end=today.replace(day=calendar.monthrange(today.year, today.month)[1]),
        value=Decimal("10000"),
    )
    director_before = card_text(page, live_server.url, "director", "won_revenue", ".kpi-value")
    attainment_before = card_text(page, live_server.url, "rep", "won_revenue", ".kpi-facts div:nth-child(2) dd")

    page.context.clear_cookies()
    deal = run_journey(page, live_server.url, title="Fleet laptops", language="en")
    assert DealStageChange.objects.filter(deal=deal).values_list("to_status", flat=True).last() == "won"

    director_after = card_text(page, live_server.url, "director", "won_revenue", ".kpi-value")
    assert director_after != director_before and "4,200" in director_after
    attainment_after = card_text(page, live_server.url, "rep", "won_revenue", ".kpi-facts div:nth-child(2) dd")
    assert attainment_after != attainment_before and attainment_after.startswith("42")


DASHBOARDS = {"director": ["/", "/dashboards/marketing/", "/dashboards/service/"], "rep": ["/"]}


@pytest.mark.parametrize("language", ["en", "pl", "ru", "fa"])
def test_every_dashboard_in_every_language_is_saved_as_a_screenshot(page, live_server, people, language):
    for username, paths in DASHBOARDS.items():
        page.context.clear_cookies()
        log_in(page, live_server.url, username)
        if language != "en":
            set_language(page, live_server.url, language)
        for path in paths:
            page.goto(f"{live_server.url}{path}")
            page.locator("article.kpi-card").first.wait_for()
            assert html_direction(page) == (language, "rtl" if language == "fa" else "ltr")
            name = f"{username}{path.strip('/').replace('/', '-') or '-home'}-{language}".replace("--", "-")
            assert screenshot(page, f"dashboard-{name}").stat().st_size > 10_000


def test_rep_journey_in_persian_is_right_to_left(page, live_server, people):
    run_journey(page, live_server.url, title="Servers for Tehran office", language="fa")
