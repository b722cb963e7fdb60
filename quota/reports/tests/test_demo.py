"""The demo company's `weekly-sales` report."""

import pytest

from quota.reports.demo import WEEKLY_SALES, ensure_demo_reports
from quota.reports.models import Report


def test_the_demo_report_is_created_once_for_the_director(company):
    report = ensure_demo_reports()
    assert report is not None and report.name == WEEKLY_SALES
    assert report.owner == company.director
    assert report.kpis == ["won_revenue", "won_deals", "win_rate", "pipeline_value"]
    assert (report.group_by, report.periods) == ("person", ["last_week", "month_to_date"])
    assert list(report.recipients.all()) == [company.director]
    assert ensure_demo_reports() == report
    assert Report.objects.count() == 1


def test_without_a_director_there_is_no_demo_report(db):
    assert ensure_demo_reports() is None


@pytest.mark.slow
def test_the_demo_report_renders_on_the_seeded_company(db, tmp_path):
    import datetime as dt

    from quota.reports.content import build_content
    from quota.reports.renderers import render
    from quota.seed.runner import seed_company

    seed_company(size="400", seed=7, today=dt.date(2025, 3, 12))
    report = ensure_demo_reports()
    assert report is not None and report.owner.username == "director"
    content = build_content(report, as_of=dt.datetime(2025, 3, 10, 7, tzinfo=dt.UTC))
    assert len(content.sections[0].groups) > 3  # the reps of every team
    assert render(content, "pdf").startswith(b"%PDF-")
