"""Finished leaf tables kept for a little while, so a dashboard asked for again costs no KPI query at all.

What a table depends on is its key: the leaves, the layout (periods or windows), the grouping and the groups
asked for, the database, whose records the user may read, and a version of every model the leaves read - their
source, each model their fields, filters and `exists` go through, people and teams (visibility, teams) -
and a leaf that compares with "now" adds the minute. The versions are their tables' (core.dataversions):
every committed write to a table gives it a new one in the shared cache, whether a model's save, an update of
many, a bulk insert or SQL, so every worker reads the new figures at once: values stay live; a win shows on
the next request. Imports, which insert by COPY, call `dataversions.written()` themselves. `KPI_CACHE_SECONDS` bounds how
long a value is kept (0 turns the cache off). A page kept whole (core.pagecache) that used a kept table depends
on the same versions.

It needs a cache every process shares (Redis: REDIS_URL) or a single process: with the local-memory cache
and several processes, one would not see another's versions, so it is on by default only with Redis.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache as shared
from django.db import models

from quota.core import dataversions
from quota.core.visibility import visible_owner_ids
from quota.crm.models import CustomField
from quota.kpi.definitions import FieldRef, Filter, Now, Related
from quota.kpi.dimensions import dimension
from quota.kpi.layout import GroupKey, Layout
from quota.kpi.plans import Leaf
from quota.kpi.queries import Scope
from quota.kpi.sources import Source, get_source
from quota.kpi.table import LeafTable

CUSTOM_DIMENSION = "custom."  # custom.<key>, company.custom.<key>: dimensions that a custom field's definition shapes

PREFIX = "kpi:table:"


def seconds() -> int:
    return int(getattr(settings, "KPI_CACHE_SECONDS", 0))


def cached_table(
    leaves: Sequence[Leaf], layout: Layout, by: str, scope: Scope, groups: Iterable[GroupKey], compute: Callable[[], LeafTable]
) -> LeafTable:
    """The finished table of `leaves` from the cache while nothing it reads has changed; else computed and kept."""
    if seconds() <= 0:
        return compute()
    key = _key(leaves, layout, by, scope, list(groups))
    return _kept(key, compute, lambda table: table.finished())


def cached_evaluation(
    identity: Sequence[Any], leaves: Sequence[Leaf], layout: Layout, by: str, scope: Scope, compute: Callable[[], T]
) -> T:
    """A whole evaluation (`identity`: the KPIs' keys, versions, names and the options), kept like a table.

    Its values also depend on the moment (a deal's age is counted to now), so it is kept for the minute only;
    the tables under it are read again after that.
    """
    if seconds() <= 0:
        return compute()
    minute = scope.now.replace(second=0, microsecond=0).isoformat()
    key = _key(leaves, layout, by, scope, [], extra=[repr(list(identity)), minute, "evaluation"])
    return _kept(key, compute, lambda value: value)


T = TypeVar("T")


def kept_statement(sql: str, params: Sequence[Any], using: str, compute: Callable[[], T]) -> T:
    """What a read-only statement the engine does not make returns (the forecast's cumulants), kept as a table is:
    while none of the tables it reads (its FROM and JOIN) has changed, for `KPI_CACHE_SECONDS` at most.

    The whole statement is the key: whose records it reads (the visible owners) is in it, so what one person may see
    is never served to another.
    """
    if seconds() <= 0:
        return compute()
    tables = sorted(dataversions.tables_read(sql))
    versions = dataversions.versions([dataversions.table_key(table, using) for table in tables])
    dataversions.note_versions(versions)  # a page kept whole that shows the result depends on them as well
    parts = [sql, repr(list(params)), using, list(versions.values()), "statement"]
    return _kept(PREFIX + hashlib.sha256(repr(parts).encode()).hexdigest(), compute, lambda value: value)


def _kept(key: str, compute: Callable[[], T], finished: Callable[[T], Any]) -> T:
    found = shared.get(key)
    if found is not None:
        return pickle.loads(found)
    value = compute()
    shared.set(key, pickle.dumps(finished(value), protocol=pickle.HIGHEST_PROTOCOL), seconds())
    return value


def _key(leaves: Sequence[Leaf], layout: Layout, by: str, scope: Scope, groups: list[GroupKey], extra: Sequence[Any] = ()) -> str:
    read = sorted({model._meta.db_table for leaf in leaves for model in models_read(leaf, by)})
    versions = dataversions.versions([dataversions.table_key(table, scope.using) for table in read])
    dataversions.note_versions(versions)  # a page kept whole that shows this table depends on them as well
    user = scope.user
    viewer = None if user is None else (user.pk, user.is_active, _visible(user))
    minute = scope.now.replace(second=0, microsecond=0).isoformat() if any(_uses_now(leaf.filters) for leaf in leaves) else ""
    parts = [
        sorted(leaf.key + ("+" if leaf.cumulative else "") for leaf in leaves),
        repr(layout),
        by,
        repr(groups),
        scope.using,
        viewer,
        list(versions.values()),
        minute,
        *extra,
    ]
    return PREFIX + hashlib.sha256(repr(parts).encode()).hexdigest()


def _visible(user: Any) -> tuple[int, ...] | None:
    if not getattr(user, "is_authenticated", False):
        return ()
    ids = visible_owner_ids(user)
    return None if ids is None else tuple(sorted(ids))


def models_read(leaf: Leaf, by: str = "none") -> set[type[models.Model]]:
    """Every model whose rows can change the leaf's values: its source's, the ones its paths go through, people, teams."""
    from quota.accounts.models import Team, User

    source = get_source(leaf.source)
    found: set[type[models.Model]] = {source.model, User, Team}
    paths = [leaf.date, leaf.attribution, *_filter_paths(leaf.filters, source)]
    if leaf.value:
        fields = leaf.value.split(":")[1:] if ":" in leaf.value else [leaf.value]
        paths += fields
        if leaf.value in source.computed:  # built in code: whatever the record links to may count
            found |= _links(source.model)
    if by != "none":
        paths += dimension(source, by, leaf.attribution).reads
    if _names_custom_field(by) or any(f.dimension and _names_custom_field(f.field) for f in leaf.filters):
        found.add(CustomField)  # its type, choices and label shape the groups (bands, order, names)
    for path in paths:
        found |= _through(source.model, path)
    for related in _related(leaf.filters):
        other = get_source(related.source)
        found |= {other.model} | _through(other.model, related.date)
        for path in _filter_paths(related.filters, other):
            found |= _through(other.model, path)
    return found


def _names_custom_field(name: str) -> bool:
    return name.startswith(CUSTOM_DIMENSION) or f".{CUSTOM_DIMENSION}" in name


def _filter_paths(filters: Iterable[Filter], source: Source) -> list[str]:
    paths = [path for f in filters for path in (dimension(source, f.field).reads if f.dimension else [f.field])]
    return paths + [f.value.field for f in filters if isinstance(f.value, FieldRef)]


def _related(filters: Iterable[Filter]) -> list[Related]:
    return [f.value for f in filters if isinstance(f.value, Related)]


def _uses_now(filters: Iterable[Filter]) -> bool:
    return any(isinstance(f.value, Now) or (isinstance(f.value, Related) and _uses_now(f.value.filters)) for f in filters)


def _through(model: type[models.Model], path: str) -> set[type[models.Model]]:
    """The models a lookup path goes through after `model` (`deal__stage__probability`: Deal, Stage)."""
    found = set()
    for part in path.split("__")[:-1]:
        try:
            model = model._meta.get_field(part).related_model  # type: ignore[assignment]
        except Exception:  # a transform or an annotation, not a link: nothing more to follow
            break
        if model is None:
            break
        found.add(model)
    return found


@cache
def _links(model: type[models.Model]) -> frozenset[type[models.Model]]:
    return frozenset(f.related_model for f in model._meta.concrete_fields if f.is_relation and f.related_model)
