"""Natural keys: finding records by what a file calls them (a name, an e-mail, an external id).

Files never hold our primary keys, so every reference ("Anna Snelling", "GTX Pro", "Central /
Dustin Brinkmann") is looked up by a natural key, case-insensitively. Lookups run once per batch of
rows (one query per key field), so memory follows the batch, not the file or the table. Keys that
are computed rather than stored (a person's full name, a team's path, a stage within its pipeline)
are indexed from the whole table, which is small for those models.
"""

from __future__ import annotations

import difflib
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models.functions import Lower

from quota.accounts.models import Team, User
from quota.activities.models import Activity
from quota.crm.models import ChurnReason, Company, Contact, Deal, Lead, LeadSource, LossReason, Pipeline, Stage
from quota.marketing.models import Campaign
from quota.sales.models import Invoice, Offer, Order, Product

TEAM_PATH_SEPARATOR = " / "
SUGGESTION_POOL = 2000  # names considered for a "did you mean"
# References found, kept between batches: a file names the same owners, stages and companies on
# row after row. Bounded, so a file naming a million distinct companies costs no more memory.
REMEMBERED_REFERENCES = 20_000


def fold(value: Any) -> str:
    return " ".join(str(value).split()).casefold()


def _ascii_lower(value: str) -> str:
    # SQLite's lower() folds only ASCII letters; this variant matches what it returns.
    return "".join(ch.lower() if ch.isascii() else ch for ch in value)


@dataclass(frozen=True)
class StoredKey:
    """A key held in one column (name, email, external_id): looked up with one query per batch."""

    name: str

    def find(
        self, model: type[models.Model], wanted: dict[str, set[str]], scope: dict[str, Any]
    ) -> dict[str, list[models.Model]]:
        """`wanted` maps each folded key to the spellings seen in the file."""
        if not wanted:
            return {}
        variants: set[str] = set()
        for spellings in wanted.values():
            for spelling in spellings:
                spaced = " ".join(spelling.split())
                variants |= {spaced, spaced.lower(), _ascii_lower(spaced)}
        rows = model._default_manager.annotate(_key=Lower(self.name)).filter(_key__in=variants, **scope)
        found: dict[str, list[models.Model]] = {}
        for record in rows:
            key = fold(getattr(record, self.name))
            if key in wanted:
                found.setdefault(key, []).append(record)
        return found

    def names(self, model: type[models.Model], scope: dict[str, Any]) -> list[str]:
        return [str(v) for v in model._default_manager.filter(**scope).values_list(self.name, flat=True)[:SUGGESTION_POOL] if v]


@dataclass(frozen=True)
class FilledKey(StoredKey):
    """A stored key most records leave blank (an imported activity's external id): looked up only
    among the records that have one, so a partial index on those answers it."""

    def find(
        self, model: type[models.Model], wanted: dict[str, set[str]], scope: dict[str, Any]
    ) -> dict[str, list[models.Model]]:
        return super().find(model, wanted, {**scope, f"{self.name}__gt": ""})


@dataclass(frozen=True)
class ComputedKey:
    """A key computed from a record (a full name, a team path): indexed from the whole, small, table."""

    name: str
    compute: Callable[[Iterable[models.Model]], dict[int, str]]

    def index(self, model: type[models.Model]) -> dict[str, tuple[str, list[models.Model]]]:
        """{folded key: (the key as written, the records that have it)}"""
        records = list(model._default_manager.all())
        keys = self.compute(records)
        found: dict[str, tuple[str, list[models.Model]]] = {}
        for record in records:
            key = " ".join(keys.get(record.pk, "").split())
            if key:
                found.setdefault(fold(key), (key, []))[1].append(record)
        return found


def _full_names(users: Iterable[models.Model]) -> dict[int, str]:
    return {u.pk: f"{u.first_name} {u.last_name}" for u in users}  # type: ignore[attr-defined]


def _team_paths(teams: Iterable[models.Model]) -> dict[int, str]:
    by_id = {t.pk: t for t in teams}
    paths: dict[int, str] = {}
    for team in by_id.values():
        names: list[str] = []
        seen: set[int] = set()
        current: models.Model | None = team
        while current is not None and current.pk not in seen:
            seen.add(current.pk)
            names.append(current.name)  # type: ignore[attr-defined]
            current = by_id.get(current.parent_id)  # type: ignore[attr-defined]
        paths[team.pk] = TEAM_PATH_SEPARATOR.join(reversed(names))
    return paths


def team_path(team: Team | None, name: str) -> str:
    """The path a team with this parent and name has (used to find it before it exists)."""
    parts = [name]
    seen: set[int] = set()
    while team is not None and team.pk not in seen:
        seen.add(team.pk)
        parts.append(team.name)
        team = team.parent
    return fold(TEAM_PATH_SEPARATOR.join(reversed(parts)))


Key = StoredKey | ComputedKey


@dataclass(frozen=True)
class NaturalKeys:
    """The keys a model is found by, tried in order; `scope` names a field the key is unique within."""

    keys: tuple[Key, ...]
    scope: str | None = None  # only stored keys are scoped (a computed index covers the whole table)


NATURAL_KEYS: dict[type[models.Model], NaturalKeys] = {
    User: NaturalKeys((ComputedKey("full_name", _full_names), StoredKey("username"), StoredKey("email"))),
    Team: NaturalKeys((ComputedKey("path", _team_paths),)),
    Company: NaturalKeys((StoredKey("name"), StoredKey("external_id"), StoredKey("domain"))),
    Contact: NaturalKeys((StoredKey("email"), StoredKey("external_id"))),
    Lead: NaturalKeys((StoredKey("external_id"), StoredKey("email"))),
    Deal: NaturalKeys((StoredKey("external_id"),)),
    Pipeline: NaturalKeys((StoredKey("name"),)),
    Stage: NaturalKeys((StoredKey("name"),), scope="pipeline"),
    LossReason: NaturalKeys((StoredKey("name"),)),
    ChurnReason: NaturalKeys((StoredKey("name"), StoredKey("key"))),
    LeadSource: NaturalKeys((StoredKey("key"), StoredKey("name"))),
    Product: NaturalKeys((StoredKey("name"), StoredKey("sku"))),
    Campaign: NaturalKeys((StoredKey("name"),)),
    Offer: NaturalKeys((StoredKey("number"),)),
    Order: NaturalKeys((StoredKey("number"), StoredKey("external_id"))),
    Invoice: NaturalKeys((StoredKey("number"), StoredKey("external_id"))),
    Activity: NaturalKeys((FilledKey("external_id"),)),
}


def key_named(model: type[models.Model], name: str) -> Key:
    for key in NATURAL_KEYS[model].keys:
        if key.name == name:
            return key
    raise KeyError(name)


@dataclass
class Found:
    record: models.Model | None = None
    candidates: int = 0  # more than one: ambiguous
    suggestion: str = ""


class Resolver:
    """Finds records by natural key for a batch of values; computed-key indexes and remembered
    references live until `forget`."""

    def __init__(self) -> None:
        self._indexes: dict[tuple[type[models.Model], str], dict[str, tuple[str, list[models.Model]]]] = {}
        self._remembered: OrderedDict[tuple[Any, ...], Found] = OrderedDict()

    def forget(self, model: type[models.Model]) -> None:
        """Drop cached indexes and remembered references after the model's table changed."""
        self._indexes = {k: v for k, v in self._indexes.items() if k[0] is not model}
        for key in [k for k in self._remembered if k[0] is model]:
            del self._remembered[key]

    def _index(self, model: type[models.Model], key: ComputedKey) -> dict[str, tuple[str, list[models.Model]]]:
        cache_key = (model, key.name)
        if cache_key not in self._indexes:
            self._indexes[cache_key] = key.index(model)
        return self._indexes[cache_key]

    def find_many(
        self,
        model: type[models.Model],
        values: Iterable[str],
        *,
        keys: Iterable[Key] | None = None,
        scope: models.Model | None = None,
        suggest: bool = False,
        remember: bool = False,
    ) -> dict[str, Found]:
        """{folded value: Found} for every value; each key is tried in order until one matches.

        With `suggest`, a value nothing matches gets the closest existing name as a "did you mean".
        With `remember`, answers are kept (see REMEMBERED_REFERENCES) until `forget(model)`.
        """
        natural = NATURAL_KEYS[model]
        pending: dict[str, set[str]] = {}
        for value in values:
            if str(value).strip():
                pending.setdefault(fold(value), set()).add(str(value))
        scope_filter = {natural.scope: scope} if natural.scope and scope is not None else {}
        results: dict[str, Found] = {}
        asked = (model, tuple(k.name for k in keys) if keys else None, getattr(scope, "pk", None), suggest)
        if remember:
            for value in list(pending):
                known = self._remembered.get((*asked, value))
                if known is not None:
                    self._remembered.move_to_end((*asked, value))
                    results[value] = known
                    del pending[value]
            if not pending:
                return results
            wanted = set(pending)
        for key in keys or natural.keys:
            if not pending:
                break
            if isinstance(key, ComputedKey):
                index = self._index(model, key)
                matches = {v: index[v][1] for v in pending if v in index}
            else:
                matches = key.find(model, pending, scope_filter)
            for value, records in matches.items():
                unique = list({r.pk: r for r in records}.values())
                if unique:
                    results[value] = Found(record=unique[0] if len(unique) == 1 else None, candidates=len(unique))
                    pending.pop(value, None)
        pool = self._suggestion_pool(model, scope_filter) if pending and suggest else {}
        for value in pending:
            close = difflib.get_close_matches(value, list(pool), n=1, cutoff=0.75) if pool else []
            results[value] = Found(suggestion=pool[close[0]] if close else "")
        if remember:
            for value in wanted:
                self._remembered[(*asked, value)] = results[value]
            while len(self._remembered) > REMEMBERED_REFERENCES:
                self._remembered.popitem(last=False)
        return results

    def _suggestion_pool(self, model: type[models.Model], scope: dict[str, Any]) -> dict[str, str]:
        """{folded: as written} of the model's main key (what people type), for "did you mean"."""
        key = NATURAL_KEYS[model].keys[0]
        if isinstance(key, ComputedKey):
            return {folded: written for folded, (written, _) in self._index(model, key).items()}
        return {fold(name): name for name in key.names(model, scope)}
