import pytest
from django.core.exceptions import ValidationError

from quota.accounts.models import Team
from quota.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_subtree_holds_the_team_and_all_descendants():
    company = Team.objects.create(name="ACME")
    east = Team.objects.create(name="East", parent=company)
    east_1 = Team.objects.create(name="East 1", parent=east)
    west = Team.objects.create(name="West", parent=company)
    assert set(east.subtree_ids()) == {east.pk, east_1.pk}
    assert set(company.subtree_ids()) == {company.pk, east.pk, east_1.pk, west.pk}


def test_a_team_cannot_be_moved_under_its_own_sub_team():
    company = Team.objects.create(name="ACME")
    east = Team.objects.create(name="East", parent=company)
    company.parent = east
    with pytest.raises(ValidationError):
        company.full_clean()


def test_user_without_team_sees_only_themself():
    user = UserFactory(team=None)
    assert user.team_member_ids() == [user.pk]
