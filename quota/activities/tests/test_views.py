"""Activity pages: the list everyone logs into, detail, create and edit."""

import pytest
from django.urls import reverse

from quota.activities.models import Activity
from quota.testing.factories import CallFactory, DealFactory, MeetingFactory
from quota.testing.views import queries_for

pytestmark = pytest.mark.django_db


def subjects(response):
    return [activity.subject for activity in response.context["page"].object_list]


def test_list_shows_only_visible_activities(client, people):
    CallFactory(owner=people["teammate"], subject="Our call")
    CallFactory(owner=people["south_rep"], subject="Their call")
    client.force_login(people["rep"])
    response = client.get(reverse("activities:activity_list"))
    assert response.status_code == 200
    assert subjects(response) == ["Our call"]


def test_list_searches_filters_and_sorts(client, people):
    rep = people["rep"]
    deal = DealFactory(owner=rep)
    CallFactory(owner=rep, subject="Pricing call", deal=deal, occurred_at="2026-01-10T10:00Z")
    MeetingFactory(owner=rep, subject="Kick-off meeting", occurred_at="2026-01-05T10:00Z")
    CallFactory(owner=rep, subject="Cold call", occurred_at="2026-01-20T10:00Z")
    client.force_login(rep)
    url = reverse("activities:activity_list")
    assert subjects(client.get(url, {"q": "pricing"})) == ["Pricing call"]
    assert subjects(client.get(url, {"kind": "meeting"})) == ["Kick-off meeting"]
    assert subjects(client.get(url, {"deal": deal.pk})) == ["Pricing call"]
    assert subjects(client.get(url, {"after": "2026-01-08"})) == ["Cold call", "Pricing call"]
    assert subjects(client.get(url, {"sort": "occurred_at"})) == ["Kick-off meeting", "Pricing call", "Cold call"]
    assert subjects(client.get(url, {"sort": "-subject"})) == ["Pricing call", "Kick-off meeting", "Cold call"]


def test_list_query_count_is_pinned_and_does_not_grow_with_rows(client, people):
    client.force_login(people["director"])
    url = reverse("activities:activity_list")

    def queries():
        return queries_for(client, url)

    deal = DealFactory(owner=people["rep"])
    for _ in range(3):
        CallFactory(owner=people["rep"], deal=deal, company=deal.company)
    client.get(url)
    few = queries()
    for _ in range(27):
        CallFactory(owner=people["south_rep"], deal=DealFactory(owner=people["south_rep"]))
    # session, user, the owner choices, a bounded count, one page of rows with deal, contact, company, owner
    assert queries() == few == 6  # the list, and the unread-notifications count in the top bar


def test_detail_of_an_invisible_activity_is_404(client, people):
    theirs = CallFactory(owner=people["south_rep"])
    client.force_login(people["rep"])
    assert client.get(reverse("activities:activity_detail", args=[theirs.pk])).status_code == 404


def test_create_with_bad_input_shows_the_error_next_to_the_field(client, people):
    client.force_login(people["rep"])
    response = client.post(
        reverse("activities:activity_create"),
        {"kind": "call", "subject": "Typed subject", "occurred_at": "2026-01-05T10:00", "owner": people["rep"].pk},
    )
    assert response.status_code == 200
    assert "direction" in response.context["form"].errors  # a call is inbound or outbound
    assert 'value="Typed subject"' in response.content.decode()
    assert not Activity.objects.exists()


def test_create_an_activity(client, people):
    client.force_login(people["rep"])
    response = client.post(
        reverse("activities:activity_create"),
        {"kind": "meeting", "subject": "Demo", "occurred_at": "2026-01-05T10:00", "owner": people["rep"].pk, "held": "true"},
    )
    activity = Activity.objects.get()
    assert response.status_code == 302 and (activity.subject, activity.owner, activity.held) == ("Demo", people["rep"], True)


def test_editing_a_teammates_activity_is_refused(client, people):
    call = CallFactory(owner=people["teammate"], subject="Theirs")
    client.force_login(people["rep"])
    url = reverse("activities:activity_edit", args=[call.pk])
    assert client.get(url).status_code == 403
    response = client.post(url, {"kind": "call", "subject": "Mine", "direction": "out", "occurred_at": "2026-01-05T10:00"})
    assert response.status_code == 403
    assert Activity.objects.get(pk=call.pk).subject == "Theirs"
