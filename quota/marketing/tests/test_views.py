"""Campaign pages."""

import pytest
from django.urls import reverse

from quota.accounts.models import Role
from quota.marketing.models import Campaign
from quota.testing.factories import CampaignFactory, LeadFactory, UserFactory, lead_source
from quota.testing.views import queries_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(people):
    """The usual cast (conftest.py) and a marketer in the north team."""
    return {**people, "marketer": UserFactory(team=people["rep"].team, role=Role.MARKETING)}


def names(response):
    return [campaign.name for campaign in response.context["page"].object_list]


def test_list_shows_only_visible_campaigns(client, people):
    CampaignFactory(name="Ours", owner=people["marketer"])
    CampaignFactory(name="Theirs", owner=people["south_rep"])
    client.force_login(people["rep"])
    response = client.get(reverse("marketing:campaign_list"))
    assert response.status_code == 200 and names(response) == ["Ours"]
    client.force_login(people["marketer"])  # marketing reads every campaign
    assert sorted(names(client.get(reverse("marketing:campaign_list")))) == ["Ours", "Theirs"]


def test_list_searches_filters_and_sorts(client, people):
    owner = people["marketer"]
    CampaignFactory(name="Spring webinar", channel="event", owner=owner, spend=300)
    CampaignFactory(name="Newsletter", channel="email", owner=owner, spend=100, source=lead_source("website"))
    CampaignFactory(name="Retargeting", channel="ads", owner=owner, spend=200)
    client.force_login(owner)
    url = reverse("marketing:campaign_list")
    assert names(client.get(url, {"q": "webinar"})) == ["Spring webinar"]
    assert names(client.get(url, {"channel": "ads"})) == ["Retargeting"]
    assert names(client.get(url, {"source": "website"})) == ["Newsletter"]  # picked by name, filtered by key
    assert names(client.get(url, {"sort": "-spend"})) == ["Spring webinar", "Retargeting", "Newsletter"]


def test_list_query_count_is_pinned_and_does_not_grow_with_rows(client, people):
    client.force_login(people["director"])
    url = reverse("marketing:campaign_list")

    def queries():
        return queries_for(client, url)

    for _ in range(3):
        CampaignFactory(owner=people["marketer"])
    client.get(url)
    few = queries()
    for _ in range(27):
        CampaignFactory(owner=people["south_rep"])
    # session, user, the lead sources, the owner choices, a bounded count, one page of rows with source and owner
    assert queries() == few == 7  # the list, and the unread-notifications count in the top bar


def test_detail_of_an_invisible_campaign_is_404_and_a_visible_one_lists_its_leads(client, people):
    theirs = CampaignFactory(owner=people["south_rep"])
    ours = CampaignFactory(owner=people["rep"])
    LeadFactory(owner=people["rep"], campaign=ours, title="From the webinar")
    client.force_login(people["rep"])
    assert client.get(reverse("marketing:campaign_detail", args=[theirs.pk])).status_code == 404
    assert "From the webinar" in client.get(reverse("marketing:campaign_detail", args=[ours.pk])).content.decode()


def test_create_with_bad_input_shows_the_error_next_to_the_field(client, people):
    owner = people["marketer"]
    client.force_login(owner)
    response = client.post(
        reverse("marketing:campaign_create"),
        {
            "name": "Autumn",
            "channel": "email",
            "source": lead_source().pk,
            "owner": owner.pk,
            "starts_on": "2026-10-01",
            "ends_on": "2026-09-01",
            "spend": "500",
            "currency": "EUR",
        },
    )
    assert response.status_code == 200 and "ends_on" in response.context["form"].errors
    assert 'value="Autumn"' in response.content.decode()
    assert not Campaign.objects.exists()


def test_editing_someone_elses_campaign_is_refused(client, people):
    campaign = CampaignFactory(name="Theirs", owner=people["marketer"])
    client.force_login(people["rep"])
    url = reverse("marketing:campaign_edit", args=[campaign.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "Mine"}).status_code == 403
    assert Campaign.objects.get(pk=campaign.pk).name == "Theirs"
