"""Keep cached team membership honest: any team or user change invalidates it."""

from django.core.signals import request_finished, request_started
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from quota.accounts.models import (
    Team,
    User,
    bump_team_tree_version,
    forget_members_after_request,
    remember_members_during_request,
)

request_started.connect(remember_members_during_request, dispatch_uid="team-members-per-request")
request_finished.connect(forget_members_after_request, dispatch_uid="team-members-per-request")


@receiver([post_save, post_delete], sender=Team)
@receiver([post_save, post_delete], sender=User)
def _team_tree_changed(**kwargs: object) -> None:
    bump_team_tree_version()
