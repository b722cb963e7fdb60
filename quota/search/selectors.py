"""Global search: the few companies, contacts, leads and deals a user may see whose names match a text.

Each kind of record is searched with the same rule as its list's search box (`core.views.search`:
every word must match one of the fields, case-insensitively) and read through `visible_to(user)`,
so nobody finds a record their lists would not show them. On PostgreSQL the `icontains` lookups
are served by the trigram GIN indexes of this app's migration; SQLite scans, which is fine at its
sizes.

Rows come shortest name first (the closest to an exact match), then alphabetically. Ordering by
an expression no B-tree index provides also keeps PostgreSQL on the trigram indexes: ordering by
an indexed column with a LIMIT tempts the planner to walk that index and test every row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db import models
from django.db.models.functions import Length
from django.urls import reverse

from quota.core.views import record_url, search
from quota.crm.models import Company, Contact, Deal, Lead

PER_KIND = 10  # rows shown per kind of record; the rest are behind a "more" link to the list
MIN_LENGTH = 3  # a trigram index cannot narrow a shorter text: it would scan a million deals


@dataclass(frozen=True)
class SearchedKind:
    """One kind of record the global search looks through, and the fields it matches."""

    model: type[models.Model]
    fields: tuple[str, ...]  # the first one names the record and orders the results
    detail: str = ""  # what a result line shows beside the name (a field, or a relation fetched with it)

    @property
    def title(self) -> Any:
        return self.model._meta.verbose_name_plural

    def list_url(self, text: str) -> str:
        """The record list searching the same text: where "more" leads."""
        return f"{reverse(f'{self.model._meta.app_label}:{self.model._meta.model_name}_list')}?{urlencode({'q': text})}"


# The indexed fields (migrations/0001) must be these: a field added here needs its trigram index too.
SEARCHED_KINDS = (
    SearchedKind(Company, ("name", "domain"), detail="domain"),
    SearchedKind(Contact, ("last_name", "first_name", "email"), detail="company"),
    SearchedKind(Lead, ("title", "last_name", "company_name", "email"), detail="company_name"),
    SearchedKind(Deal, ("title",), detail="company"),
)


@dataclass(frozen=True)
class Result:
    record: Any
    url: str
    detail: Any


@dataclass(frozen=True)
class ResultGroup:
    """The matches of one kind of record: at most PER_KIND rows, and whether there are more."""

    kind: SearchedKind
    rows: list[Result]
    more: bool
    more_url: str


def global_search(*, user: Any, text: str, per_kind: int = PER_KIND) -> list[ResultGroup]:
    """The records of each kind `user` may see that match `text`; kinds without a match are left out."""
    text = text.strip()
    if len(text) < MIN_LENGTH:
        return []
    groups = []
    for kind in SEARCHED_KINDS:
        visible = kind.model._default_manager.visible_to(user)  # type: ignore[attr-defined]
        name = kind.fields[0]
        matches = search(visible, kind.fields, text)
        if kind.detail and kind.model._meta.get_field(kind.detail).is_relation:
            matches = matches.select_related(kind.detail)
        rows = list(matches.order_by(Length(name), name, "pk")[: per_kind + 1])
        if rows:
            results = [Result(row, record_url(row) or "", getattr(row, kind.detail, "")) for row in rows[:per_kind]]
            groups.append(ResultGroup(kind, results, len(rows) > per_kind, kind.list_url(text)))
    return groups
