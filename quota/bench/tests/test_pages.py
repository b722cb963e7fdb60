"""The pages benchmark's figures: every page key, timed as its own user, with the shape `latest.json` keeps."""

from __future__ import annotations

import pytest

from quota.accounts.models import Role
from quota.bench import pages
from quota.testing.factories import CompanyFactory, DealFactory, UserFactory

pytestmark = pytest.mark.django_db

KEYS = {
    "director_dashboard",
    "rep_dashboard",
    "marketing_dashboard",
    "service_dashboard",
    "pipeline_board",
    "deal_list",
    "kpi_page",
    "search",
}


@pytest.fixture
def company() -> None:
    director = UserFactory(username="director", role=Role.DIRECTOR, team=None)
    rep = UserFactory(username="rep", role=Role.REP)
    UserFactory(username="marketing", role=Role.MARKETING, team=None)
    UserFactory(username="service", role=Role.SERVICE, team=None)
    DealFactory(owner=rep, company=CompanyFactory(name="Ridgeway Oak"))
    assert director.pk


@pytest.mark.slow
def test_every_page_key_has_its_figures(company: None) -> None:
    with pages.bench_settings():
        measured = pages.measure(repeats=1)

    assert measured.keys() >= KEYS
    assert set(pages.PAGES) == KEYS
    for name in KEYS - {"search"}:
        figures = measured[name]
        assert figures["status"] == 200, (name, figures)
        assert figures["median_ms"] > 0 and figures["queries"] > 0 and figures["cached_median_ms"] > 0, (name, figures)
        assert 0 < figures["kept_median_ms"] < figures["median_ms"]
        assert figures["within_goal"] == (figures["median_ms"] < pages.GOAL_MS)
    # Each phase counts its own queries (the uncached count once read the cached phase's log).
    director = measured["director_dashboard"]
    assert director["queries"] > director["cached_queries"]
    # Global search is timed where the branch serves it, else reported as not available (never a failure).
    search = measured["search"]
    assert search["url"] == "/search/?q=Ridgeway"
    assert ("median_ms" in search) == search["available"]
    assert measured["deals"] == 1


@pytest.mark.slow
def test_a_missing_user_is_reported_not_timed(company: None) -> None:
    from quota.accounts.models import User

    User.objects.filter(username="marketing").delete()
    with pages.bench_settings():
        measured = pages.measure(repeats=1)

    assert measured["marketing_dashboard"] == {"url": "/dashboards/marketing/", "error": "no user 'marketing'"}
