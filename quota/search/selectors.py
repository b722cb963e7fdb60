"""Global search: the few companies, contacts, leads and deals a user may see whose names match a text.

Each kind of record is searched with the same rule as its list's search box (`core.views.search`:
every word must match one of the fields, case-insensitively) and read through `visible_to(user)`,
so nobody finds a record their lists would not show them. On PostgreSQL the `icontains` lookups
are served by the trigram GIN indexes of this app's migration; SQLite scans, which is fine at its
sizes.

Each kind shows up to PER_KIND matches, shortest name first (the closest to an exact match), then
alphabetically. When more match, which ones are shown is up to the database (the first it finds):
ranking every match of a common word would read all of them, and the "more" link leads to the
whole list anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db import connection, models, transaction
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
    with _filters_priced_as_they_cost():
        for kind in SEARCHED_KINDS:
            groups += _search_kind(kind, user=user, text=text, per_kind=per_kind)
    return groups


@contextmanager
def _filters_priced_as_they_cost() -> Iterator[None]:
    """Tell PostgreSQL's planner what a `UPPER(field) LIKE '%word%'` test on every row really costs.

    It prices the test like an addition, so for a word it expects to match often it prefers reading
    the table until PER_KIND + 1 rows match over asking the trigram index. When the word is in fact
    rare that reads every row: 10 s for a long e-mail address over 1.9 million leads, where the index
    answers in 0.2 s. Priced forty times higher (measured on the `large` bench), the planner still reads
    the table for a common word (it stops after a few rows) and asks the index for a rare one.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL cpu_operator_cost = 0.1")
        try:
            yield
        finally:
            cursor.execute("RESET cpu_operator_cost")


def _search_kind(kind: SearchedKind, *, user: Any, text: str, per_kind: int) -> list[ResultGroup]:
    """The matches of one kind, as a group of at most `per_kind` rows (none when nothing matches)."""
    visible = kind.model._default_manager.visible_to(user)  # type: ignore[attr-defined]
    name = kind.fields[0]
    # Which rows: any per_kind + 1 matches, unordered, so that PostgreSQL may stop at the first ones it
    # meets (a common word matches 100,000 deals: sorting them all is what would be slow). A rare
    # word's matches all come from the trigram index. Then only those few are sorted.
    picked = search(visible, kind.fields, text).order_by().values("pk")[: per_kind + 1]
    matches = kind.model._default_manager.filter(pk__in=picked)
    if kind.detail and kind.model._meta.get_field(kind.detail).is_relation:
        matches = matches.select_related(kind.detail)
    rows = list(matches.order_by(Length(name), name, "pk"))
    if not rows:
        return []
    results = [Result(row, record_url(row) or "", getattr(row, kind.detail, "")) for row in rows[:per_kind]]
    return [ResultGroup(kind, results, len(rows) > per_kind, kind.list_url(text))]
