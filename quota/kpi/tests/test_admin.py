"""In the admin a KPI version is never edited in place: adding one saves the next version of its key."""

import json

import pytest
from django.urls import reverse

from quota.kpi.models import Metric
from quota.testing.factories import UserFactory

pytestmark = pytest.mark.django_db

DEFINITION = {"source": "leads", "date": "created_at", "measure": {"kind": "count"}, "unit": "count", "better": "higher"}


def test_adding_a_kpi_saves_the_next_version(client):
    client.force_login(UserFactory(role="admin", is_staff=True, is_superuser=True))
    url = reverse("admin:kpi_metric_add")
    for _ in range(2):
        response = client.post(
            url, {"key": "all_leads", "name": "All leads", "description": "Every lead.", "definition": json.dumps(DEFINITION)}
        )
        assert response.status_code == 302
    versions = list(Metric.objects.filter(key="all_leads").order_by("version").values_list("version", "is_current"))
    assert versions == [(1, False), (2, True)]


def test_a_definition_that_cannot_be_computed_is_refused(client):
    client.force_login(UserFactory(role="admin", is_staff=True, is_superuser=True))
    broken = {**DEFINITION, "date": "status"}
    response = client.post(
        reverse("admin:kpi_metric_add"), {"key": "bad", "name": "Bad", "description": "x", "definition": json.dumps(broken)}
    )
    assert response.status_code == 200 and "is not a date" in response.content.decode()
    assert not Metric.objects.filter(key="bad").exists()
