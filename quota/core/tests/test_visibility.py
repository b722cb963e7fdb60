"""Per-role visibility: what each role reads and changes (core.visibility)."""

import pytest

from quota.accounts.models import Role, Team
from quota.activities.models import Activity
from quota.crm.models import Deal, DealStageChange
from quota.crm.services import deal_create
from quota.testing.factories import CallFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def company():
    """Two sales teams, the first with a sub-team, each with reps and deals."""
    sales = Team.objects.create(name="Sales")
    north = Team.objects.create(name="North", parent=sales)
    north_east = Team.objects.create(name="North-East", parent=north)
    south = Team.objects.create(name="South", parent=sales)
    people = {
        "rep_n": UserFactory(team=north),
        "rep_n2": UserFactory(team=north),
        "rep_ne": UserFactory(team=north_east),
        "rep_s": UserFactory(team=south),
        "manager_n": UserFactory(team=north, role=Role.MANAGER),
        "director": UserFactory(team=sales, role=Role.DIRECTOR),
        "admin": UserFactory(team=None, role=Role.ADMIN),
        "marketing": UserFactory(team=None, role=Role.MARKETING),
        "service": UserFactory(team=None, role=Role.SERVICE),
        "viewer_s": UserFactory(team=south, role=Role.VIEWER),
    }
    deals = {name: deal_create(by=None, title=name, owner=people[name]) for name in ("rep_n", "rep_n2", "rep_ne", "rep_s")}
    deals["unowned"] = deal_create(by=None, title="unowned", owner=None)
    return people, deals


def names(qs, deals):
    ids = set(qs.values_list("pk", flat=True))
    return {name for name, deal in deals.items() if deal.pk in ids}


EVERYTHING = {"rep_n", "rep_n2", "rep_ne", "rep_s", "unowned"}


@pytest.mark.parametrize(
    ("who", "reads", "changes"),
    [
        ("rep_n", {"rep_n", "rep_n2", "rep_ne", "unowned"}, {"rep_n"}),
        ("rep_ne", {"rep_ne", "unowned"}, {"rep_ne"}),
        ("rep_s", {"rep_s", "unowned"}, {"rep_s"}),
        ("manager_n", {"rep_n", "rep_n2", "rep_ne", "unowned"}, {"rep_n", "rep_n2", "rep_ne", "unowned"}),
        ("director", EVERYTHING, EVERYTHING),
        ("admin", EVERYTHING, EVERYTHING),
        ("marketing", EVERYTHING, set()),
        ("service", EVERYTHING, set()),
        ("viewer_s", {"rep_s", "unowned"}, set()),
    ],
)
def test_each_role_reads_and_changes_what_it_should(company, who, reads, changes):
    people, deals = company
    user = people[who]
    assert names(Deal.objects.visible_to(user), deals) == reads
    assert names(Deal.objects.editable_by(user), deals) == changes


def test_related_records_follow_their_parents_owner(company):
    people, deals = company
    visible = DealStageChange.objects.visible_to(people["rep_s"]).values_list("deal_id", flat=True)
    assert set(visible) == {deals["rep_s"].pk, deals["unowned"].pk}


def test_anonymous_and_inactive_users_see_nothing(company):
    from django.contrib.auth.models import AnonymousUser

    people, _ = company
    assert not Deal.objects.visible_to(AnonymousUser()).exists()
    people["director"].is_active = False
    assert not Deal.objects.visible_to(people["director"]).exists()


def test_moving_a_rep_to_another_team_changes_visibility_at_once(company):
    people, deals = company
    rep = people["rep_s"]
    assert deals["rep_n"].pk not in Deal.objects.visible_to(rep).values_list("pk", flat=True)
    rep.team = people["rep_n"].team
    rep.save()
    assert deals["rep_n"].pk in Deal.objects.visible_to(rep).values_list("pk", flat=True)


def test_activities_are_restricted_the_same_way(company):
    people, _ = company
    CallFactory(owner=people["rep_n"])
    CallFactory(owner=people["rep_s"])
    assert Activity.objects.visible_to(people["rep_s"]).count() == 1
    assert Activity.objects.visible_to(people["director"]).count() == 2
