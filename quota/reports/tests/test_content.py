"""What a report reads: every period and grouping of one report from the same KPI versions and rollups."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from quota.kpi import rollups
from quota.kpi.models import Metric
from quota.reports.content import build_content
from quota.reports.services import report_create
from quota.reports.tests.helpers import NOW, report_fields


def _reads(captured: CaptureQueriesContext, table: str) -> int:
    return sum(f'FROM "{table}"' in query["sql"] for query in captured.captured_queries)


def test_a_report_reads_the_kpi_versions_and_the_rollups_freshness_once(company):
    rollups.rebuild()
    # Two periods, each evaluated in total and by person: four evaluations of the same KPIs.
    report = report_create(by=company.director, recipients=[company.director], **report_fields())
    with CaptureQueriesContext(connection) as captured:
        content = build_content(report, as_of=NOW)
    assert [len(section.groups) > 0 for section in content.sections] == [True, True]
    assert _reads(captured, Metric._meta.db_table) == 1
    assert _reads(captured, "kpi_rollupstate") == 1
