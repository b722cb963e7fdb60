"""The pages whose layout is checked in every language and width, and how a browser checks and photographs them.

`quota screenshots` photographs them against a seeded demo (var/screenshots/<page>-<language>-<width>.png) and
the browser tests in e2e/test_layout.py ask `layout_problems` the same questions, so both look at the same pages.
Playwright drives Debian's Chromium (never `playwright install`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

LANGUAGES = ("en", "pl", "ru", "fa")
WIDE, NARROW = 1280, 390  # a small laptop, a phone
SCREENSHOT_WIDTHS = (1440, NARROW)
HEIGHT = 900


@dataclass(frozen=True)
class LayoutPage:
    name: str
    path: str
    username: str  # the demo login that sees the page at its fullest


PAGES = (
    LayoutPage("director_dashboard", "/", "director"),
    LayoutPage("my_dashboard", "/dashboards/my/", "rep"),
    LayoutPage("marketing_dashboard", "/dashboards/marketing/", "director"),
    LayoutPage("service_dashboard", "/dashboards/service/", "director"),
    LayoutPage("pipeline_board", "/crm/board/", "director"),
    LayoutPage("deal_list", "/crm/deals/", "director"),
    LayoutPage("kpi_won_revenue", "/dashboards/kpi/won_revenue/", "director"),
    LayoutPage("targets_grid", "/dashboards/targets/", "director"),
)

# Boxes that must hold their content: cards and panels, and a KPI card's parts. A scroll container inside them
# (`.table-scroll`, the board's columns) holds what is wider; it must not be needed at a laptop's width unless it
# is marked `data-scrolls` (the targets grid with many KPIs, the board's stage columns).
PROBE = """
({wide}) => {
  const problems = [];
  const describe = (el) => {
    const cls = typeof el.className === "string" && el.className ? "." + el.className.trim().split(/\\s+/).join(".") : "";
    const text = (el.innerText || el.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 40);
    return el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + cls + (text ? ` "${text}"` : "");
  };
  const scrolls = (el) => ["auto", "scroll"].includes(getComputedStyle(el).overflowX);
  const inScroller = (el, box) => {
    for (let node = el.parentElement; node && node !== box; node = node.parentElement) if (scrolls(node)) return true;
    return false;
  };
  const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const boxes = document.querySelectorAll(".card, .panel, .kpi-card, .kpi-facts > div");
  for (const box of boxes) {
    if (!shown(box) || scrolls(box)) continue;
    if (box.scrollWidth > box.clientWidth + 1) {
      problems.push(`${describe(box)} overflows: content ${box.scrollWidth}px in ${box.clientWidth}px`);
      continue;
    }
    const edge = box.getBoundingClientRect();
    for (const el of box.querySelectorAll("*")) {
      // A chart's SVG text is placed by ECharts inside the chart's box; a list box's options scroll inside it.
      if (el.closest("svg, select, .visually-hidden") || !shown(el) || inScroller(el, box)) continue;
      const rect = el.getBoundingClientRect();
      if (rect.width === 0) continue;
      if (rect.left < edge.left - 1 || rect.right > edge.right + 1) {
        problems.push(`${describe(el)} sticks out of ${describe(box)}`);
        break;
      }
      const display = getComputedStyle(el).display;
      if (display !== "inline" && getComputedStyle(el).overflowX === "visible" && el.scrollWidth > el.clientWidth + 1
          && el.clientWidth > 0) {
        problems.push(`${describe(el)} runs over its box: ${el.scrollWidth}px in ${el.clientWidth}px`);
        break;
      }
    }
  }
  if (wide) {
    for (const scroller of document.querySelectorAll(".table-scroll")) {
      if (!shown(scroller) || scroller.closest("[data-scrolls]")) continue;
      if (scroller.scrollWidth > scroller.clientWidth + 1)
        problems.push(`${describe(scroller.querySelector("table") || scroller)} needs a scroll bar at ${innerWidth}px`);
    }
  }
  const page = document.documentElement.scrollWidth;
  if (page > innerWidth) problems.push(`the page scrolls sideways: ${page}px wide at ${innerWidth}px`);
  return problems;
}
"""


def layout_problems(page: Any) -> list[str]:
    """What overflows on the page a Playwright `page` shows now (an empty list when everything fits)."""
    width = page.viewport_size["width"]
    page.wait_for_load_state("load")
    # Charts draw after load; let them settle so their boxes have their final size.
    page.wait_for_timeout(150)
    return list(page.evaluate(PROBE, width >= WIDE))


def log_in(context: Any, base_url: str, username: str, password: str) -> Any:
    """A page of the Playwright browser `context`, signed in as `username`."""
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    return page


def show_in(page: Any, base_url: str, path: str, language: str) -> None:
    """Open `path` in `language` (the language cookie the switcher sets)."""
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base_url}])
    page.goto(base_url + path)


@contextmanager
def served() -> Iterator[str]:
    """This database's Quota on a free local port, in a thread (static files from the source tree); yields its URL."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.db import connections
    from django.test.testcases import LiveServerThread

    # An in-memory SQLite database (the tests') is only visible through this thread's connection.
    shared = {
        conn.alias: conn
        for conn in connections.all(initialized_only=True)
        if conn.vendor == "sqlite" and conn.is_in_memory_db()  # type: ignore[attr-defined]
    }
    for conn in shared.values():
        conn.inc_thread_sharing()
    server = LiveServerThread("localhost", StaticFilesHandler, connections_override=shared or None)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    try:
        if server.error:
            raise server.error
        yield f"http://localhost:{server.port}"
    finally:
        server.terminate()
        for conn in shared.values():
            conn.dec_thread_sharing()


@contextmanager
def chromium(executable: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update"],
        )
        try:
            yield browser
        finally:
            browser.close()


def capture(
    browser: Any,
    base_url: str,
    out: Path,
    *,
    password: str,
    languages: tuple[str, ...] = LANGUAGES,
    widths: tuple[int, ...] = SCREENSHOT_WIDTHS,
    pages: tuple[LayoutPage, ...] = PAGES,
) -> Iterator[tuple[Path, list[str]]]:
    """Photograph every page in every language and width; yields each file with the layout problems seen on it."""
    out.mkdir(parents=True, exist_ok=True)
    for width in widths:
        for username in dict.fromkeys(p.username for p in pages):
            context = browser.new_context(viewport={"width": width, "height": HEIGHT})
            try:
                page = log_in(context, base_url, username, password)
                for language in languages:
                    for layout_page in (p for p in pages if p.username == username):
                        show_in(page, base_url, layout_page.path, language)
                        problems = layout_problems(page)
                        path = out / f"{layout_page.name}-{language}-{width}.png"
                        page.screenshot(path=str(path), full_page=True)
                        yield path, problems
            finally:
                context.close()
