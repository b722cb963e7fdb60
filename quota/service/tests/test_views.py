"""Service case pages."""

import pytest
from django.urls import reverse

from quota.accounts.models import Role
from quota.service.models import Case
from quota.testing.factories import CaseFactory, CompanyFactory, ContactFactory, UserFactory
from quota.testing.views import queries_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(people):
    """The usual cast (conftest.py) and a service agent in the north team."""
    return {**people, "agent": UserFactory(team=people["rep"].team, role=Role.SERVICE)}


def case_numbers(response):
    return [case.number for case in response.context["page"].object_list]


def test_list_shows_only_visible_cases(client, people):
    ours = CaseFactory(owner=people["teammate"])
    CaseFactory(owner=people["south_rep"])
    client.force_login(people["rep"])
    response = client.get(reverse("service:case_list"))
    assert response.status_code == 200 and case_numbers(response) == [ours.number]


def test_list_searches_filters_and_sorts(client, people):
    rep = people["rep"]
    CaseFactory(owner=rep, number="C-1", subject="Printer jammed", priority="low")
    CaseFactory(owner=rep, number="C-2", subject="Invoice wrong", priority="urgent")
    CaseFactory(owner=rep, number="C-3", subject="Login fails", priority="normal")
    client.force_login(rep)
    url = reverse("service:case_list")
    assert case_numbers(client.get(url, {"q": "printer"})) == ["C-1"]
    assert case_numbers(client.get(url, {"priority": "urgent"})) == ["C-2"]
    assert case_numbers(client.get(url, {"sort": "subject"})) == ["C-2", "C-3", "C-1"]
    assert case_numbers(client.get(url, {"sort": "-number"})) == ["C-3", "C-2", "C-1"]


def test_list_query_count_is_pinned_and_does_not_grow_with_rows(client, people):
    client.force_login(people["director"])
    url = reverse("service:case_list")

    def queries():
        return queries_for(client, url)

    for _ in range(3):
        company = CompanyFactory(owner=people["rep"])
        CaseFactory(owner=people["rep"], company=company, contact=ContactFactory(company=company))
    client.get(url)
    few = queries()
    for _ in range(27):
        CaseFactory(owner=people["south_rep"], contact=ContactFactory())
    # session, user, the owner choices, a bounded count, one page of rows with company, contact, owner
    assert queries() == few == 6  # the list, and the unread-notifications count in the top bar


def test_detail_of_an_invisible_case_is_404(client, people):
    theirs = CaseFactory(owner=people["south_rep"])
    client.force_login(people["rep"])
    assert client.get(reverse("service:case_detail", args=[theirs.pk])).status_code == 404


def test_create_numbers_the_case_and_sets_its_response_deadline(client, people):
    agent = people["agent"]
    client.force_login(agent)
    response = client.post(reverse("service:case_create"), {"subject": "Server down", "priority": "urgent", "owner": agent.pk})
    case = Case.objects.get()
    assert response.status_code == 302
    assert case.number.startswith("C-") and (case.response_due_at - case.created_at).total_seconds() == 2 * 3600


def test_create_with_bad_input_shows_the_error_next_to_the_field(client, people):
    client.force_login(people["agent"])
    response = client.post(
        reverse("service:case_create"),
        {"subject": "", "description": "It broke", "priority": "high", "owner": people["agent"].pk},
    )
    assert response.status_code == 200 and "subject" in response.context["form"].errors
    assert "It broke" in response.content.decode()
    assert not Case.objects.exists()


def test_resolving_without_a_time_is_an_error_on_that_field(client, people):
    rep = people["rep"]
    case = CaseFactory(owner=rep)
    client.force_login(rep)
    response = client.post(
        reverse("service:case_edit", args=[case.pk]),
        {"number": case.number, "subject": case.subject, "owner": rep.pk, "status": "resolved", "priority": "normal"},
    )
    assert "resolved_at" in response.context["form"].errors
    assert Case.objects.get(pk=case.pk).status == "new"


def test_editing_a_teammates_case_is_refused(client, people):
    case = CaseFactory(owner=people["teammate"], subject="Theirs")
    client.force_login(people["rep"])
    url = reverse("service:case_edit", args=[case.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"subject": "Mine"}).status_code == 403
    assert Case.objects.get(pk=case.pk).subject == "Theirs"
