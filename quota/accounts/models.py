"""People and teams: who works here, in which team, in which role."""

from __future__ import annotations

from contextvars import ContextVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.cache import cache
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    DIRECTOR = "director", _("Sales director")
    MANAGER = "manager", _("Sales manager")
    REP = "rep", _("Sales rep")
    MARKETING = "marketing", _("Marketing")
    SERVICE = "service", _("Service")
    VIEWER = "viewer", _("Viewer")


class Team(models.Model):
    """A team in the company's tree (company > team > sub-team); people belong to one team."""

    name = models.CharField(_("name"), max_length=120)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent team"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="team_unique_name_per_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    def subtree_ids(self) -> list[int]:
        """This team's id and all its descendants' (teams are few: one query, walked in Python)."""
        children: dict[int | None, list[int]] = {}
        for team_id, parent_id in Team.objects.values_list("id", "parent_id"):
            children.setdefault(parent_id, []).append(team_id)
        ids, stack = [], [self.pk]
        while stack:
            current = stack.pop()
            ids.append(current)
            stack.extend(children.get(current, []))
        return ids

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.pk and self.parent_id and self.parent_id in self.subtree_ids():
            raise ValidationError({"parent": _("A team cannot be placed under itself or one of its sub-teams.")})


class User(AbstractUser):
    """A person who signs in; their role and team decide what they see (see core.visibility)."""

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.REP)
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    language = models.CharField(_("language"), max_length=8, blank=True, default="")

    objects: UserManager = UserManager()  # type: ignore[misc]

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.label_of(self.first_name, self.last_name, self.username)

    @staticmethod
    def label_of(first_name: str, last_name: str, username: str) -> str:
        """How a person is shown: their full name, else their username (also for names read without a user)."""
        return f"{first_name} {last_name}".strip() or username

    def team_member_ids(self) -> list[int]:
        """Ids of everyone in this user's team and its sub-teams (just themself without a team)."""
        if self.team_id is None:
            return [self.pk]
        this_request = _members_this_request.get()
        ids = this_request.get(self.team_id) if this_request is not None else None
        if ids is None:
            key = f"team-members:{self.team_id}:{team_tree_version()}"
            ids = cache.get(key)
            if ids is None:
                team_ids = Team.objects.get(pk=self.team_id).subtree_ids()
                ids = list(User.objects.filter(team_id__in=team_ids).values_list("id", flat=True))
                cache.set(key, ids, 300)
            if this_request is not None:
                this_request[self.team_id] = ids
        if self.pk not in ids:
            ids = [*ids, self.pk]
        return ids


# Team members by team, as read during the current request: a page asks for its user's walls many times.
_members_this_request: ContextVar[dict[int, list[int]] | None] = ContextVar("team_members_this_request", default=None)


def remember_members_during_request(**kwargs: object) -> None:
    _members_this_request.set({})


def forget_members_after_request(**kwargs: object) -> None:
    _members_this_request.set(None)


def team_tree_version() -> int:
    """Bumped whenever teams or memberships change, so cached member lists go stale at once."""
    return int(cache.get_or_set("team-tree-version", 1) or 1)


def bump_team_tree_version() -> None:
    this_request = _members_this_request.get()
    if this_request:
        this_request.clear()
    try:
        cache.incr("team-tree-version")
    except ValueError:
        cache.set("team-tree-version", 2)
