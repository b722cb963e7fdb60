"""One truth per number: every card, for every role and period preset, agrees with the pages behind it.

For a seeded company (the demo, and smaller generated ones from other seeds) each role opens each of its
dashboards for each period preset, and for every card:

- the card's link (followed as rendered) opens a KPI page whose headline has the same KPI, scope and raw value;
- for a count or a sum, the records behind it (the page's link, followed) add up to that value: the list's
  count, or the sum of its amounts; a card without a KPI page links to its records, which must add up the same;
- the pipeline funnel's stages add up to their lists (a past period's deals as they stood at its end).

Values are compared as the pages print them for machines (`data-value`, `data-count`, `data-sum`), so a page
that shows another scope, period or set of records than its card fails here. The walk must compare real
numbers: a minimum of non-zero comparisons is asserted, so an empty company cannot pass.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from typing import ClassVar
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.test import Client

from quota.accounts.models import User
from quota.core.permissions import boards_of
from quota.core.visibility import visible_owner_ids
from quota.dashboards.periods import PERIOD_CHOICES, PeriodKey
from quota.kpi.models import Metric
from quota.seed.runner import seed_company
from quota.testing.clock import ORDINARY_MOMENT

ROLES = ("director", "manager", "rep", "marketing", "service", "viewer")
PERIODS = [key.value for key, _label in PERIOD_CHOICES if key != PeriodKey.CUSTOM]
# History ends at noon the day before the pinned clock (quota.testing.clock): nothing lies in the future.
SEEDED_UNTIL = ORDINARY_MOMENT.date() - dt.timedelta(days=1)
MONEY_CENT = Decimal("0.011")  # a card's float rounded to the cent against the database's exact sum

# (size, seed): the demo company as `quota seed --size demo` makes it, and the smallest company of another seed.
WORLDS = [("demo", 1), ("50", 29)]


# ----------------------------------------------------------------------------- reading pages


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    links: list[dict[str, str]] = field(default_factory=list)  # the <a> inside it


class Page(HTMLParser):
    """The elements of a page that carry the data attributes the checks read."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.cards: list[Element] = []  # article[data-kpi]
        self.records: list[dict[str, str]] = []  # a[data-records]
        self.rows: list[Element] = []  # tr[data-value] (a breakdown)
        self.summary: dict[str, str] | None = None  # p.list-summary
        self.scope: str | None = None  # the KPI page's scope line
        self._open: list[Element] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {key: value or "" for key, value in attrs}
        if tag == "article" and "data-kpi" in named:
            self.cards.append(Element(tag, named))
            self._open.append(self.cards[-1])
        elif tag == "tr" and "data-value" in named:
            self.rows.append(Element(tag, named))
            self._open.append(self.rows[-1])
        elif tag == "a":
            if self._open:
                self._open[-1].links.append(named)
            if "data-records" in named:
                self.records.append(named)
        elif tag == "p" and "list-summary" in named.get("class", ""):
            self.summary = named
        elif tag == "span" and "kpi-scope" in named.get("class", ""):
            self.scope = named["data-scope"]

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1].tag == tag:
            self._open.pop()


class Reader:
    """One signed-in person's pages.

    A KPI page or list of the same URL is read once for everyone who reads the same records (the same
    `visible_owner_ids`: a director, marketing and service read everything; a manager, rep and viewer their team),
    unless it is someone's own (`scope=me`, `owner=`): each role's cards are still checked against it, which holds
    them to one answer across those roles too, and the walk stays within a minute or so of work per company.
    Dashboards are each role's own.
    """

    shared: ClassVar[dict[tuple[object, str], Page]] = {}

    def __init__(self, user: User) -> None:
        self.client = Client()
        self.client.force_login(user)
        self.user = user
        visible = visible_owner_ids(user)
        self.sees = "everything" if visible is None else tuple(sorted(visible))

    def get(self, url: str, **headers: str) -> Page:
        own = (url.startswith("/dashboards/") and "/kpi/" not in url) or "scope=me" in url or "owner=" in url
        key = (self.user.pk if own else self.sees, url)
        if key not in self.shared:
            response = self.client.get(url, **headers)
            assert response.status_code == 200, f"GET {url} answered {response.status_code}"
            self.shared[key] = Page(response.content.decode())
        return self.shared[key]

    def records(self, url: str) -> Page:
        """A records list: the table part of its page (what HTMX swaps in, with the same count and sum)."""
        return self.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="record-table")


def list_totals(reader: Reader, url: str) -> dict[str, Decimal]:
    """What a records list adds up to: its count, and the sum of its amounts (money) when it has amounts."""
    summary = reader.records(url).summary
    assert summary is not None and summary["data-count"] != "", f"{url} does not state its count"
    totals = {"count": Decimal(summary["data-count"])}
    if summary["data-sum"] != "":
        totals["money"] = Decimal(summary["data-sum"])
    return totals


def list_total(reader: Reader, url: str, unit: str) -> Decimal:
    totals = list_totals(reader, url)
    assert unit in totals, f"{url} does not state its sum"
    return totals[unit]


def agree(value: str, total: Decimal, unit: str) -> bool:
    return abs(Decimal(value) - total) <= MONEY_CENT if unit == "money" else Decimal(value) == total


# ----------------------------------------------------------------------------- the walk


@dataclass
class Tally:
    cards: int = 0
    nonzero: int = 0  # additive figures compared with their records that were not zero
    records: int = 0
    by_role: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


def additive(metrics: dict[str, Metric], key: str) -> str | None:
    """The unit a card's records add up in (count or money), or None for a rate, an average ..."""
    metric = metrics.get(key)
    if metric is None:  # a card without a saved KPI (open cases): a count of records
        return "count"
    measure = metric.parsed.measure
    return str(metric.unit) if measure.kind in {"count", "sum"} and not measure.parts else None


def check_card(reader: Reader, card: Element, metrics: dict[str, Metric], where: str, tally: Tally) -> None:
    key, value, scope = card.attrs["data-kpi"], card.attrs["data-value"], card.attrs["data-scope"]
    href = next(link["href"] for link in card.links if "kpi-link" in link.get("class", ""))
    unit = additive(metrics, key)
    tally.cards += 1
    if urlsplit(href).path.startswith("/dashboards/kpi/"):
        page = reader.get(href)
        headline = page.cards[0].attrs
        seen = (headline["data-kpi"], headline["data-scope"], headline["data-value"], page.scope)
        if seen != (key, scope, value, scope):
            tally.problems.append(f"{where} {key}: card {(key, scope, value)} but its page {href} shows {seen}")
            return
        records = page.records[0] if page.records else None
        if unit is None or value == "":
            return
        if records is None or records["data-records"] != "complete":
            tally.problems.append(f"{where} {key}: {href} has no complete list of the records behind {value}")
            return
        url = records["href"]
    else:  # a card without a KPI page links straight to its records
        url = href
        if unit is None or value == "":
            return
    total = list_total(reader, url, unit)
    tally.records += 1
    tally.nonzero += Decimal(value) != 0
    if not agree(value, total, unit):
        tally.problems.append(f"{where} {key}: card {value} but the records at {url} add up to {total}")


def check_funnel(reader: Reader, board: Page, where: str, tally: Tally) -> None:
    for step in (link for link in board.records if "data-count" in link):
        tally.records += 1
        tally.nonzero += step["data-count"] != "0"
        totals = list_totals(reader, step["href"])
        if not (agree(step["data-count"], totals["count"], "count") and agree(step["data-sum"], totals["money"], "money")):
            tally.problems.append(f"{where} funnel: {step['data-count']} deals, {step['data-sum']} at {step['href']}")


def walk(metrics: dict[str, Metric]) -> Tally:
    tally = Tally()
    Reader.shared.clear()  # pages of another company
    for role in ROLES:
        user = User.objects.get(username=role)
        reader = Reader(user)
        for period in PERIODS:
            for board in boards_of(user):
                where = f"{role} {board} {period}"
                page = reader.get(f"/dashboards/{board}/?period={period}")
                assert page.cards, f"{where}: no cards"
                for card in page.cards:
                    if card.attrs["data-kpi"] == "revenue_forecast":
                        continue  # a forecast, not a KPI: it has no page and no records
                    check_card(reader, card, metrics, where, tally)
                    tally.by_role[role] += 1
                if board == "sales":
                    check_funnel(reader, page, where, tally)
    return tally


@pytest.fixture(scope="module", params=WORLDS, ids=lambda world: f"{world[0]}-seed{world[1]}")
def seeded(request, django_db_setup, django_db_blocker):
    size, seed = request.param
    with django_db_blocker.unblock(), transaction.atomic():
        seed_company(size=size, seed=seed, today=SEEDED_UNTIL)
        yield size
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_every_card_agrees_with_its_kpi_page_and_its_records(seeded):
    metrics = {m.key: m for m in Metric.objects.current()}
    tally = walk(metrics)
    assert not tally.problems, f"{len(tally.problems)} disagreements, the first: " + "\n".join(tally.problems[:15])
    assert set(tally.by_role) == set(ROLES)
    # Real numbers were compared: most roles' cards over six periods, with records behind many non-zero ones.
    assert tally.cards >= len(ROLES) * len(PERIODS) * 5
    assert tally.records >= 100 and tally.nonzero >= tally.records // 3, tally
