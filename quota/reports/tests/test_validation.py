"""Report definitions that cannot be sent are rejected, each with a message that says what to change."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from quota.accounts.models import Role
from quota.reports.choices import LAST_DAY
from quota.reports.models import Report
from quota.reports.services import report_create, report_update
from quota.reports.tests.helpers import report_fields
from quota.testing.clock import clock_at
from quota.testing.factories import UserFactory


def rejected(**kwargs) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        report_create(**kwargs)
    assert not Report.objects.exists()
    return caught.value.message_dict


def test_a_valid_report_is_saved_with_its_next_run(company):
    report = report_create(by=company.director, recipients=[company.director], **report_fields())
    assert report.owner == company.director
    assert report.next_run_at is not None and report.next_run_at.weekday() == 0


@pytest.mark.parametrize("day", [29, 30, 31])
def test_a_monthly_day_that_not_every_month_has_is_rejected_suggesting_the_last_day(company, day):
    errors = rejected(by=company.director, recipients=[company.director], **report_fields(frequency="monthly", day_of_month=day))
    assert "February" in errors["day_of_month"][0]
    assert "last day of the month" in errors["day_of_month"][0]


def test_the_last_day_of_the_month_is_a_valid_monthly_day(company):
    report = report_create(
        by=company.director, recipients=[company.director], **report_fields(frequency="monthly", day_of_month=LAST_DAY)
    )
    assert report.weekday is None  # only the field the frequency uses is kept
    assert report.schedule.describe() == "monthly on the last day at 07:00"


def test_a_weekly_report_needs_its_weekday(company):
    errors = rejected(by=company.director, recipients=[company.director], **report_fields(weekday=None))
    assert errors["weekday"] == ["A weekly report needs the weekday it is sent on."]


def test_an_empty_recipient_list_is_rejected(company):
    errors = rejected(by=company.director, **report_fields())
    assert errors["recipients"] == ["Add at least one recipient: a user or an e-mail address."]


def test_a_kpi_restricted_to_directors_is_refused_for_a_manager_recipient(company, settings):
    settings.REPORTS_KPI_ROLES = {"won_revenue": ["director", "admin"]}
    errors = rejected(by=company.director, recipients=[company.director, company.manager_north], **report_fields())
    assert errors["kpis"] == [
        f"{company.manager_north} may not see the KPI Won revenue (sales volume) (only: Administrator, Sales director)."
    ]


def test_company_wide_kpis_are_only_for_those_who_see_everything(company):
    errors = rejected(by=company.rep_north, recipients=[company.rep_north], **report_fields(kpis=["cac"], group_by="none"))
    assert any("Customer acquisition cost" in message for message in errors["kpis"])
    report = report_create(by=company.director, recipients=[company.director], **report_fields(kpis=["cac"], group_by="none"))
    assert report.kpis == ["cac"]


def test_a_rep_cannot_report_on_another_teams_view(company):
    errors = rejected(by=company.rep_north, recipients=[company.rep_north], **report_fields(scope_user=company.manager_south))
    assert errors["scope_user"] == [f"You may not make a report of what {company.manager_south} sees: it is outside your team."]


def test_a_recipient_who_may_not_see_the_scope_is_refused(company):
    errors = rejected(by=company.manager_north, recipients=[company.manager_north, company.rep_south], **report_fields())
    assert errors["recipients"] == [
        f"{company.rep_south} may not see everything {company.manager_north} sees, so cannot receive this report."
    ]


def test_an_address_outside_quota_needs_an_owner_who_sees_everything(company):
    errors = rejected(by=company.manager_north, emails=["cfo@elsewhere.example"], **report_fields())
    assert "is not a Quota user" in errors["emails"][0]
    report = report_create(by=company.director, emails=["cfo@elsewhere.example"], **report_fields())
    assert report.emails == ["cfo@elsewhere.example"]


def test_an_address_of_a_quota_user_is_checked_as_that_user(company):
    errors = rejected(by=company.manager_north, emails=[company.rep_south.email.upper()], **report_fields())
    assert errors["recipients"] == [
        f"{company.rep_south} may not see everything {company.manager_north} sees, so cannot receive this report."
    ]


def test_unknown_kpis_and_impossible_breakdowns_are_explained(company):
    errors = rejected(
        by=company.director, recipients=[company.director], **report_fields(kpis=["won_revenu", "customer_activity_rate"])
    )
    assert errors["kpis"][0].startswith("There is no KPI 'won_revenu'; did you mean won_revenue")
    assert errors["group_by"][0].startswith("Customer activity rate:")


def test_nothing_to_send_is_rejected(company):
    errors = rejected(
        by=company.director, recipients=[company.director], **report_fields(kpis=[], tables=[], periods=[], formats=[])
    )
    assert errors["kpis"] == ["Choose at least one KPI or table."]
    assert errors["periods"] == ["Choose at least one period."]
    assert errors["formats"] == ["Choose at least one format (PDF, XLSX or CSV)."]


def test_viewers_do_not_define_reports(company):
    viewer = UserFactory(role=Role.VIEWER, team=company.north)
    with pytest.raises(PermissionDenied):
        report_create(by=viewer, recipients=[viewer], **report_fields())


def test_only_the_owner_or_a_director_changes_a_report(company):
    report = report_create(by=company.manager_north, recipients=[company.manager_north], **report_fields())
    with pytest.raises(PermissionDenied):
        report_update(report=report, by=company.rep_north, data={"title": "Mine now"})
    report_update(report=report, by=company.director, data={"title": "Checked"})
    assert Report.objects.get().title == "Checked"


def test_changing_the_schedule_moves_the_next_run(company):
    # On a Wednesday the next Monday-morning run and tomorrow morning's differ (on a Sunday they are the same).
    with clock_at():
        report = report_create(by=company.director, recipients=[company.director], **report_fields())
        updated = report_update(report=report, by=company.director, data={"frequency": "daily"})
    assert updated.weekday is None
    assert updated.next_run_at != report.next_run_at
    paused = report_update(report=updated, by=company.director, data={"is_active": False})
    assert paused.next_run_at is None
