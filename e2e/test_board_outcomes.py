"""The board's Won and Lost drop zones in a real browser: a drop on Won wins, a drop on Lost asks why first."""

import pytest

from quota.crm.services import deal_create
from quota.testing.factories import loss_reason

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dropping_cards_on_won_and_lost(page, live_server, rep):
    reason = loss_reason("Price too high")
    won = deal_create(by=rep, title="Fleet", owner=rep)
    lost = deal_create(by=rep, title="Vans", owner=rep)
    log_in(page, live_server.url, "rep")
    page.goto(f"{live_server.url}/crm/board/")

    page.locator(f".deal-card[data-deal='{won.pk}']").drag_to(page.locator(".board-outcome[data-outcome='won']"))
    page.locator(f".deal-card[data-deal='{won.pk}']").wait_for(state="detached")
    won.refresh_from_db()
    assert won.status == "won"

    page.locator(f".deal-card[data-deal='{lost.pk}']").drag_to(page.locator(".board-outcome[data-outcome='lost']"))
    dialog = page.locator("#board-dialog")
    dialog.locator("select[name=loss_reason]").select_option(str(reason.pk))
    dialog.locator("textarea[name=note]").fill("Too dear")
    dialog.locator("button.primary").click()
    page.locator(f".deal-card[data-deal='{lost.pk}']").wait_for(state="detached")
    assert not dialog.is_visible()
    lost.refresh_from_db()
    assert (lost.status, lost.loss_reason, lost.loss_note) == ("lost", reason, "Too dear")
