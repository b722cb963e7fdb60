"""The glossary page: every KPI's exact definition, in the site's layout."""

import pytest
from django.urls import reverse

from quota.kpi.catalogue import CATALOGUE
from quota.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_glossary_lists_every_kpi_with_its_definition(client):
    client.force_login(UserFactory())
    response = client.get(reverse("kpi:glossary"))
    assert response.status_code == 200
    assert "base.html" in [t.name for t in response.templates]
    page = response.content.decode()
    for entry in CATALOGUE:
        assert f'id="{entry.key}"' in page
    assert "Won deals divided by deals closed (won plus lost) in the period" in page
    assert "lower is better" in page and "higher is better" in page


def test_the_glossary_needs_a_login(client):
    response = client.get(reverse("kpi:glossary"))
    assert response.status_code == 302 and "login" in response["Location"]
