"""The REST API sets a company's lifecycle (its dates and churn reason) and shows the stage the database derives."""

import pytest

from quota.crm.models import ChurnReason
from quota.testing.api import client_for
from quota.testing.factories import CompanyFactory

pytestmark = pytest.mark.django_db


def test_a_customer_churns_and_comes_back_through_the_api(people):
    api = client_for(people["rep"])
    company = CompanyFactory(owner=people["rep"])
    url = f"/api/companies/{company.pk}/"
    assert api.get(url).json()["lifecycle"] == "prospect"
    reason = ChurnReason.objects.get(key="contract_ended")
    answer = api.patch(
        url, {"customer_since": "2023-04-01", "churned_on": "2024-04-01", "churn_reason": reason.pk}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    assert (answer.json()["lifecycle"], answer.json()["churn_reason"]) == ("churned", reason.pk)
    back = api.patch(url, {"churned_on": None, "churn_reason": None}, format="json")
    assert (back.status_code, back.json()["lifecycle"]) == (200, "customer")
    assert api.get("/api/companies/", {"lifecycle": "customer"}).json()["count"] == 1
    assert api.get("/api/companies/", {"lifecycle": "churned"}).json()["count"] == 0


def test_an_impossible_lifecycle_is_refused_field_by_field_and_changes_nothing(people):
    api = client_for(people["rep"])
    company = CompanyFactory(owner=people["rep"], customer_since="2024-02-01")
    url = f"/api/companies/{company.pk}/"
    answer = api.patch(url, {"churned_on": "2024-01-01"}, format="json")
    assert answer.status_code == 400
    assert "churned_on" in str(answer.json())
    assert api.patch(url, {"lifecycle": "churned"}, format="json").json()["lifecycle"] == "customer"  # read only
    company.refresh_from_db()
    assert company.churned_on is None


def test_churn_reasons_are_listed_for_everyone_and_changed_by_administrators(people):
    listed = client_for(people["rep"]).get("/api/churn-reasons/").json()
    assert "contract_ended" in [row["key"] for row in listed["results"]]
    assert client_for(people["rep"]).post("/api/churn-reasons/", {"name": "Merged"}, format="json").status_code == 403
    assert client_for(people["director"]).post("/api/churn-reasons/", {"name": "Merged"}, format="json").status_code == 201
