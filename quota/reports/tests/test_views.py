"""Report pages: define a report in the form, send it now, watch its progress, download its files."""

import pytest
from django.urls import reverse

from quota.reports.choices import DeliveryStatus, DeliveryTrigger
from quota.reports.models import Report, ReportDelivery
from quota.reports.services import report_create
from quota.reports.tests.helpers import NOW, report_fields
from quota.testing.clock import clock_at


@pytest.fixture
def weekly(company):
    return report_create(by=company.manager_north, recipients=[company.manager_north], **report_fields(formats=["csv"]))


def form_data(**overrides):
    data = {
        "name": "north-weekly",
        "title": "North weekly",
        "kpis": ["won_revenue", "won_deals"],
        "group_by": "person",
        "periods": ["last_week"],
        "tables": ["won_deals"],
        "formats": ["pdf", "csv"],
        "frequency": "weekly",
        "weekday": "0",
        "day_of_month": "",
        "send_at": "07:00",
        "emails": "",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def test_a_manager_defines_a_report_in_the_form(client, company):
    client.force_login(company.manager_north)
    assert client.get(reverse("reports:report_create")).status_code == 200
    response = client.post(
        reverse("reports:report_create"), form_data(recipients=[company.manager_north.pk, company.rep_north.pk])
    )
    report = Report.objects.get(name="north-weekly")
    assert response.status_code == 302 and response["Location"] == reverse("reports:report_detail", args=[report.pk])
    assert report.owner == company.manager_north
    assert set(report.recipients.all()) == {company.manager_north, company.rep_north}


def test_the_form_shows_the_services_reasons_next_to_the_fields(client, company):
    client.force_login(company.manager_north)
    response = client.post(reverse("reports:report_create"), form_data(frequency="monthly", weekday="", day_of_month=""))
    assert response.status_code == 200
    assert "A monthly report needs the day of the month it is sent on." in response.content.decode()
    assert "Add at least one recipient: a user or an e-mail address." in response.content.decode()
    assert not Report.objects.exists()


def test_the_form_offers_only_people_the_author_may_see(client, company):
    client.force_login(company.rep_north)
    page = client.get(reverse("reports:report_create")).content.decode()
    assert "Nina Northrep" in page and "Sven Southrep" not in page


def test_the_list_and_the_detail_page(client, company, weekly):
    client.force_login(company.manager_north)
    listing = client.get(reverse("reports:report_list")).content.decode()
    assert "weekly-sales" in listing and "weekly on Monday at 07:00" in listing
    detail = client.get(reverse("reports:report_detail", args=[weekly.pk])).content.decode()
    assert "Send now" in detail and "Not sent yet." in detail
    assert "Won revenue (sales volume), Won deals, Win rate, Pipeline value" in detail and "Last week, Month to date" in detail


def test_another_team_does_not_see_the_report(client, company, weekly):
    client.force_login(company.manager_south)
    assert client.get(reverse("reports:report_detail", args=[weekly.pk])).status_code == 404
    assert client.post(reverse("reports:report_send", args=[weekly.pk])).status_code == 404
    assert "weekly-sales" not in client.get(reverse("reports:report_list")).content.decode()


def test_a_recipient_sees_the_report_but_may_not_change_or_send_it(client, company, weekly):
    weekly.recipients.add(company.rep_north)
    client.force_login(company.rep_north)
    detail = client.get(reverse("reports:report_detail", args=[weekly.pk])).content.decode()
    assert "Send now" not in detail
    assert client.get(reverse("reports:report_edit", args=[weekly.pk])).status_code == 403
    assert client.post(reverse("reports:report_send", args=[weekly.pk])).status_code == 403


def test_send_now_with_htmx_returns_the_history_with_the_new_delivery(
    client, company, weekly, django_capture_on_commit_callbacks
):
    client.force_login(company.manager_north)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:report_send", args=[weekly.pk]), headers={"HX-Request": "true"})
        delivery = ReportDelivery.objects.get()
        page = response.content.decode()
        # The test's transaction holds the task until the block ends: the page shows the delivery queued, polling.
        assert f'id="delivery-{delivery.pk}"' in page and 'hx-trigger="every 1s"' in page
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT  # eager Celery (the embedded default) sends it right after commit
    row = client.get(reverse("reports:delivery_progress", args=[delivery.pk])).content.decode()
    assert "hx-trigger" not in row and reverse("reports:delivery_file", args=[delivery.pk, "csv"]) in row


def test_a_running_delivery_polls_its_progress_until_it_is_done(client, company, weekly):
    delivery = ReportDelivery.objects.create(
        report=weekly, trigger=DeliveryTrigger.MANUAL, status=DeliveryStatus.RUNNING, progress=40, step="Evaluating KPIs"
    )
    client.force_login(company.manager_north)
    url = reverse("reports:delivery_progress", args=[delivery.pk])
    row = client.get(url).content.decode()
    assert f'hx-get="{url}"' in row and 'hx-trigger="every 1s"' in row and 'value="40"' in row and "Evaluating KPIs" in row
    ReportDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SENT, progress=100)
    done = client.get(url).content.decode()
    assert "hx-trigger" not in done and "Sent" in done


def test_files_are_downloaded_only_by_those_who_see_the_report(client, company, weekly, django_capture_on_commit_callbacks):
    client.force_login(company.manager_north)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reports:report_send", args=[weekly.pk]))
    delivery = ReportDelivery.objects.get()
    url = reverse("reports:delivery_file", args=[delivery.pk, "csv"])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="weekly-sales-')
    assert b"".join(response.streaming_content).decode("utf-8-sig").startswith("period,from,to")
    assert client.get(reverse("reports:delivery_file", args=[delivery.pk, "pdf"])).status_code == 404  # not rendered
    client.force_login(company.rep_south)
    assert client.get(url).status_code == 404


# ---------------------------------------------------------------------------------------- Send now, once


def send_token(client, report) -> str:
    import re

    page = client.get(reverse("reports:report_detail", args=[report.pk])).content.decode()
    return re.search(r'name="send_token" value="([0-9a-f]{32})"', page).group(1)


def test_send_now_pressed_twice_sends_one_e_mail_and_says_so(
    client, company, weekly, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(company.manager_north)
    token = send_token(client, weekly)
    url = reverse("reports:report_send", args=[weekly.pk])
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, {"send_token": token}, headers={"HX-Request": "true"})
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(url, {"send_token": token}, headers={"HX-Request": "true"})
    assert first.status_code == again.status_code == 200
    assert len(mailoutbox) == 1 and ReportDelivery.objects.count() == 1
    assert "was sent already" not in first.content.decode()
    assert "This report was sent already" in again.content.decode() and "it is not sent twice" in again.content.decode()
    # A retried plain post (no HTMX) is told the same, on the page it lands on.
    retried = client.post(url, {"send_token": token}, follow=True)
    assert "This report was sent already" in retried.content.decode() and len(mailoutbox) == 1
    # A fresh page has a fresh token: that is a new request, and it is sent.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"send_token": send_token(client, weekly)})
    assert len(mailoutbox) == 2


def test_a_press_while_the_first_is_on_its_way_makes_no_second_delivery(client, company, weekly, mailoutbox):
    client.force_login(company.manager_north)
    url = reverse("reports:report_send", args=[weekly.pk])
    client.post(url, {"send_token": send_token(client, weekly)})  # queued; the task waits for the commit
    second = client.post(url, {"send_token": send_token(client, weekly)}, headers={"HX-Request": "true"})
    assert "This report is being sent already; it goes out once." in second.content.decode()
    assert ReportDelivery.objects.get().status == DeliveryStatus.QUEUED and mailoutbox == []


def test_a_malformed_token_is_refused_with_a_reason(client, company, weekly):
    client.force_login(company.manager_north)
    response = client.post(reverse("reports:report_send", args=[weekly.pk]), {"send_token": "<script>"})
    assert response.status_code == 400 and "reload the page" in response.content.decode()
    assert not ReportDelivery.objects.exists()


def test_send_now_with_the_broker_down_is_sent_from_the_web_process_once(
    client, company, weekly, mailoutbox, django_capture_on_commit_callbacks
):
    from quota.testing.outages import REDIS_DOWN, celery_broker

    client.force_login(company.manager_north)
    token = send_token(client, weekly)
    url = reverse("reports:report_send", args=[weekly.pk])
    with celery_broker(REDIS_DOWN):
        with django_capture_on_commit_callbacks(execute=True):
            first = client.post(url, {"send_token": token})
        with django_capture_on_commit_callbacks(execute=True):
            retried = client.post(url, {"send_token": token})
    assert first.status_code == retried.status_code == 302  # not a 500 for a delivery that goes out
    assert len(mailoutbox) == 1 and ReportDelivery.objects.get().status == DeliveryStatus.SENT


def test_a_report_name_is_free_text_and_its_key_stays_when_it_is_renamed(client, company):
    client.force_login(company.manager_north)
    response = client.post(
        reverse("reports:report_create"), form_data(name="Monthly board pack", recipients=[company.manager_north.pk])
    )
    report = Report.objects.get(name="Monthly board pack")
    assert response.status_code == 302 and report.key == "monthly-board-pack"
    client.post(reverse("reports:report_create"), form_data(name="Monthly board pack!", recipients=[company.manager_north.pk]))
    assert Report.objects.get(name="Monthly board pack!").key == "monthly-board-pack-2"
    client.post(
        reverse("reports:report_edit", args=[report.pk]),
        form_data(name="Board pack (monthly)", recipients=[company.manager_north.pk]),
    )
    report.refresh_from_db()
    assert (report.name, report.key) == ("Board pack (monthly)", "monthly-board-pack")
    assert "Board pack (monthly)" in client.get(reverse("reports:report_list")).content.decode()
    taken = client.post(
        reverse("reports:report_create"), form_data(name="Board pack (monthly)", recipients=[company.manager_north.pk])
    )
    assert taken.status_code == 200 and "already exists" in taken.content.decode()


# ---------------------------------------------------------------------------------------- preview and download


def test_the_owner_previews_and_downloads_the_report_without_sending_it(client, company, weekly, mailoutbox):
    client.force_login(company.manager_north)
    with clock_at(NOW):
        page = client.get(reverse("reports:report_preview", args=[weekly.pk]))
        pdf = client.get(reverse("reports:report_download", args=[weekly.pk, "pdf"]))
        xlsx = client.get(reverse("reports:report_download", args=[weekly.pk, "xlsx"]))
    text = page.content.decode()
    assert page.status_code == 200 and "North big win" in text and "South secret win" not in text
    assert reverse("reports:report_download", args=[weekly.pk, "xlsx"]) in text
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf["Content-Disposition"] == 'attachment; filename="weekly-sales-2025-03-12.pdf"'
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
    assert not ReportDelivery.objects.exists() and not mailoutbox
    assert client.get(reverse("reports:report_download", args=[weekly.pk, "docx"])).status_code == 404


def test_a_report_is_previewed_only_by_those_who_could_receive_it(client, company, weekly):
    preview = reverse("reports:report_preview", args=[weekly.pk])
    download = reverse("reports:report_download", args=[weekly.pk, "pdf"])
    client.force_login(company.manager_south)  # another team: does not even see the report
    assert (client.get(preview).status_code, client.get(download).status_code) == (404, 404)
    # A recipient added before they moved to another team: the report would show what they may not see.
    weekly.recipients.add(company.rep_south)
    client.force_login(company.rep_south)
    assert client.get(reverse("reports:report_detail", args=[weekly.pk])).status_code == 200
    refused = client.get(preview)
    assert refused.status_code == 403 and "North big win" not in refused.content.decode()
    assert client.get(download).status_code == 403
    client.force_login(company.director)  # reads everything
    with clock_at(NOW):
        assert client.get(preview).status_code == 200
