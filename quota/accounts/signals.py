"""Keep cached team membership honest: any team or user change invalidates it."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from quota.accounts.models import Team, User, bump_team_tree_version


@receiver([post_save, post_delete], sender=Team)
@receiver([post_save, post_delete], sender=User)
def _team_tree_changed(**kwargs: object) -> None:
    bump_team_tree_version()
