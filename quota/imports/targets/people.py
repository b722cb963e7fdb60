"""Teams and users: the people deals are owned by, and the team tree visibility follows."""

from __future__ import annotations

import unicodedata
from dataclasses import replace

from quota.accounts.models import Role, Team, User, bump_team_tree_version
from quota.imports.keys import Key, key_named, team_path
from quota.imports.targets.base import FieldKind, RowWork, StepContext, Target, TargetField

NAME = TargetField(name="name", kind=FieldKind.TEXT, label="full name", virtual=True)


def split_name(full_name: str) -> tuple[str, str]:
    """'Mei-Mei Johns' -> ('Mei-Mei', 'Johns'); one word is a last name."""
    parts = full_name.split()
    if len(parts) < 2:
        return "", full_name.strip()
    return " ".join(parts[:-1]), parts[-1]


class TeamTarget(Target):
    """Teams, found by their path from the top ("Central / Dustin Brinkmann")."""

    name = "teams"
    model = Team
    match_fields = ("path",)

    def match_key(self, field_name: str, work: RowWork) -> tuple[Key, str] | None:
        if field_name != "path" or not work.values.get("name"):
            return None
        return key_named(Team, "path"), team_path(work.values.get("parent"), work.values["name"])

    def after_write(self, created: list[RowWork], updated: list[RowWork], ctx: StepContext) -> None:
        if created or updated:
            bump_team_tree_version()  # bulk writes send no signals


class UserTarget(Target):
    """People who sign in. Imported users get an unusable password."""

    name = "users"
    model = User
    match_fields = ("email", "username", "name")
    # Privileges are given in the app by an administrator, never by a file.
    exclude = frozenset({"password", "last_login", "is_superuser", "is_staff", "date_joined"})
    filled_when_blank = frozenset({"username"})  # made from the name when the file has none

    def fields(self) -> dict[str, TargetField]:
        found = super().fields()
        found["role"] = replace(found["role"], choices=tuple(c for c in found["role"].choices if c[0] != Role.ADMIN))
        return found

    def virtual_fields(self) -> list[TargetField]:
        return [NAME]

    def derive(self, work: RowWork) -> None:
        full_name = work.values.get("name")
        if full_name:
            first, last = split_name(full_name)
            work.values.setdefault("first_name", first)
            work.values.setdefault("last_name", last)

    def match_key(self, field_name: str, work: RowWork) -> tuple[Key, str] | None:
        if field_name == "name":
            full_name = " ".join(filter(None, [work.values.get("first_name"), work.values.get("last_name")]))
            return (key_named(User, "full_name"), full_name) if full_name else None
        return super().match_key(field_name, work)

    def prepare(self, work: RowWork, ctx: StepContext) -> None:
        user = work.instance
        assert isinstance(user, User)
        if work.creating and not user.username:
            user.username = self._free_username(user, ctx)
        if work.creating and not user.password:
            user.set_unusable_password()  # they are invited to set one, never given a guessable one

    def _free_username(self, user: User, ctx: StepContext) -> str:
        base = _ascii_slug(f"{user.first_name}.{user.last_name}" if user.first_name else user.last_name)
        if not base and user.email:
            base = _ascii_slug(user.email.split("@")[0])
        base = base or "user"
        taken: set[str] = ctx.cache.setdefault("usernames", set())
        taken.update(u.casefold() for u in User.objects.filter(username__istartswith=base).values_list("username", flat=True))
        candidate, n = base, 1
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{base}{n}"
        taken.add(candidate.casefold())
        return candidate

    def after_write(self, created: list[RowWork], updated: list[RowWork], ctx: StepContext) -> None:
        if created or updated:
            bump_team_tree_version()

    def display(self, record: User) -> str:  # type: ignore[override]
        return record.get_full_name() or record.username


def _ascii_slug(value: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    kept = "".join(ch if ch.isalnum() or ch in "._-" else "" for ch in ascii_text.lower().replace(" ", "."))
    return kept.strip("._-")[:140]
