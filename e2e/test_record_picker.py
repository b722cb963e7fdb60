"""In the browser: a record picker shows names, never a raw id, and picking or clearing a record works.

With JavaScript the id box is a hidden input (the <noscript> number box is not in the page);
without it, the number box is there to type an id in.
"""

import pytest

from quota.crm.services import deal_create
from quota.testing.factories import CompanyFactory

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_picking_and_clearing_a_company_on_a_deal(page, live_server, rep):
    first = CompanyFactory(name="Acme Rockets", owner=rep)
    CompanyFactory(name="Zenith Anvils", owner=rep)
    deal = deal_create(by=rep, title="Fleet vans", owner=rep, company=first)
    log_in(page, live_server.url, "rep")
    page.goto(f"{live_server.url}/crm/deals/{deal.pk}/edit/")

    picker = page.locator(".picker:has(input[name=company])")
    assert picker.locator(".picker-label").inner_text() == "Acme Rockets"
    assert picker.locator("input[type=number]").count() == 0  # no raw id box with JavaScript on
    assert picker.locator("input[name=company]").get_attribute("type") == "hidden"

    picker.locator(".picker-search").fill("zenith")
    picker.locator(".picker-option", has_text="Zenith Anvils").click()
    assert picker.locator(".picker-label").inner_text() == "Zenith Anvils"
    with page.expect_navigation():
        page.click("form.record-form button[type=submit]")
    deal.refresh_from_db()
    assert deal.company.name == "Zenith Anvils"

    page.goto(f"{live_server.url}/crm/deals/{deal.pk}/edit/")
    picker.locator(".picker-clear").click()
    assert picker.locator(".picker-label").inner_text() == "" and picker.locator(".picker-clear").is_hidden()
    with page.expect_navigation():
        page.click("form.record-form button[type=submit]")
    deal.refresh_from_db()
    assert deal.company is None


def test_without_javascript_an_id_can_be_typed(browser, live_server, rep):
    company = CompanyFactory(name="Acme Rockets", owner=rep)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_server.url, "rep")
        page.goto(f"{live_server.url}/crm/deals/?company={company.pk}")
        picker = page.locator(".picker:has(input[name=company])")
        assert picker.locator(".picker-label").inner_text() == "Acme Rockets"
        box = picker.locator("input[type=number][name=company]")
        assert box.input_value() == str(company.pk)
    finally:
        context.close()
