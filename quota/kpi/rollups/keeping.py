"""Keeping rollups current: building them from the records, and refreshing them on every write.

- `quota kpi rollup` (or `rebuild()`) builds them from the records in a few INSERT ... SELECTs;
- every save and delete through the ORM refreshes the days and years it touched, after commit; if that
  refresh fails (the write is committed: it must not turn into an error), they are marked stale. An
  UPDATE that bypasses the ORM (queryset.update) is not noticed: rebuild after one;
- a parent that changes owner (a campaign handed to someone else) or goes away marks its children's
  rollups stale: the records are read until the rebuild;
- stale rollups are rebuilt by a periodic task (`rebuild_stale()`, every few minutes), so none stays
  stale until someone runs `quota kpi rollup`; it also builds the leaves added since (a new KPI, a new stage)
  where rollups are built at all.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import cache, partial
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models import DateField, F, Max, Q, Sum, Value
from django.db.models.functions import Coalesce, Greatest, Trunc
from django.db.models.signals import post_delete, post_init, post_save
from django.utils import timezone

from quota.core import dataversions
from quota.kpi.definitions import FieldRef, Filter, Op
from quota.kpi.expressions import PackedDoubles
from quota.kpi.layout import GroupKey, Layout
from quota.kpi.models import ROLLUP_MONTHS, Rollup, RollupState
from quota.kpi.periods import Every, company_zone, floor, shift
from quota.kpi.plans import Leaf
from quota.kpi.queries import Batch, LeafQuery, Scope
from quota.kpi.rollups.eligibility import DAY, YEAR, eligible, owner_link, rollup_leaves
from quota.kpi.rollups.freshness import forget_checked, mark_stale, stale_leaves, unbuilt_leaves
from quota.kpi.sources import SOURCES, Kind, Source, get_source

logger = logging.getLogger(__name__)


def rebuild(*, using: str = DEFAULT_DB_ALIAS, leaves: Sequence[Leaf] | None = None) -> dict[str, int]:
    """Build the rollups of `leaves` (default: every eligible leaf of the current KPIs); rows per source.date field."""
    leaves = rollup_leaves(using) if leaves is None else [leaf for leaf in leaves if eligible(leaf)]
    # A cumulative leaf and its flow share a key and rows: build each key once, as a flow.
    flows = {leaf.key: replace(leaf, cumulative=False) for leaf in leaves}
    by_date: dict[tuple[str, str], list[Leaf]] = defaultdict(list)
    for leaf in flows.values():
        by_date[(leaf.source, leaf.date)].append(leaf)
    written = {}
    for (source_key, date), group in sorted(by_date.items()):
        source = get_source(source_key)
        with transaction.atomic(using=using):
            # The newest record first: anything inserted while we aggregate makes these rollups stale, not wrong.
            newest = source.model._default_manager.db_manager(using).aggregate(newest=Max("pk"))["newest"] or 0
            RollupState.objects.using(using).filter(leaf__in=[leaf.key for leaf in group]).delete()  # and their rows
            states = RollupState.objects.using(using).bulk_create(
                RollupState(
                    leaf=leaf.key,
                    source=source_key,
                    date=date,
                    spec=_spec(leaf),
                    time_zone=str(settings.TIME_ZONE),
                    max_pk=newest,
                )
                for leaf in group
            )
            query = _builder(source, using, date)
            ids = [state.pk for state in states]
            _insert_days(query.per_bucket(group, None, None, _day(source, date)), ids, using)
            _insert_years(ids, using)
            transaction.on_commit(partial(dataversions.bump_tables, [source.model._meta.db_table], using), using=using)
            written[f"{source_key}.{date}"] = Rollup.objects.using(using).filter(state_id__in=ids).count()
    forget_checked(using)  # the states were made again: new ids
    _vacuum(using)
    return written


def rebuild_stale(*, using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Rebuild only the stale rollups, and build those of leaves added since (a new KPI, a new stage), the periodic
    task; rows per source.date field, empty when all are fresh."""
    leaves = [*stale_leaves(using), *unbuilt_leaves(using)]
    return rebuild(using=using, leaves=leaves) if leaves else {}


def drop(*, using: str = DEFAULT_DB_ALIAS) -> None:
    RollupState.objects.using(using).all().delete()  # rows go with their states
    forget_checked(using)


def _vacuum(using: str) -> None:
    """Fresh statistics and a visibility map, so PostgreSQL reads rollups with index-only scans from the start."""
    connection = connections[using]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return  # VACUUM cannot run in a transaction; autovacuum catches up
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(Rollup._meta.db_table)}")


def _builder(source: Source, using: str, date: str) -> LeafQuery:
    """The records' query by person and day, grouped by the owner rollups are kept by (the record's or its parent's)."""
    batch = Batch(source.key, date, source.attribution, 0, False)
    return LeafQuery(batch, Layout(Every.DAY), "person", Scope(None, using, timezone.now()))


def _day(source: Source, date: str) -> Any:
    zone = company_zone() if source.field(date).kind == Kind.DATETIME else None
    return Trunc(date, "day", output_field=DateField(), tzinfo=zone)


COLUMNS = ("state_id", "grain", "bucket", "owner_id", "value")


def _insert_days(rows: models.QuerySet, state_ids: Sequence[int], using: str) -> None:
    """INSERT ... SELECT from the grouped query (a column `v<i>` per leaf): the rows never travel through Python."""
    connection = connections[using]
    quote = connection.ops.quote_name
    sql, params = rows.query.get_compiler(using).as_sql()
    selects: list[str] = []
    extra: list[Any] = []
    for index, state in enumerate(state_ids):
        value = quote(f"v{index}")
        selects.append(f"SELECT %s, %s, {quote('_bucket')}, {quote('_group')}, {value} FROM rollup_rows WHERE {value} <> 0")
        extra += [state, DAY]
    columns = ", ".join(quote(c) for c in COLUMNS)
    statement = (
        f"WITH rollup_rows AS ({sql}) INSERT INTO {quote(Rollup._meta.db_table)} ({columns}) {' UNION ALL '.join(selects)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, *extra])


def _insert_years(state_ids: Sequence[int], using: str, owner: Q | None = None, year: dt.date | None = None) -> None:
    """Year rows are the sums of the day rows, month by month and in all (of one owner and year, when refreshing)."""
    days = Rollup.objects.using(using).filter(grain=DAY, state_id__in=state_ids)
    if owner is not None and year is not None:
        days = days.filter(owner, bucket__gte=year, bucket__lt=shift(year, Every.YEAR, 1))
    months = {
        f"_{name}": Coalesce(Sum("value", filter=Q(bucket__month=number)), Value(0.0))
        for number, name in enumerate(ROLLUP_MONTHS, 1)
    }
    rows = (
        days.annotate(_year=Trunc("bucket", "year", output_field=DateField()))
        .values("state_id", "_year", "owner_id")
        .annotate(_value=Sum("value"), **months)
        .annotate(_months=PackedDoubles(*(F(name) for name in months)))
        .order_by()
    )
    connection = connections[using]
    quote = connection.ops.quote_name
    sql, params = rows.query.get_compiler(using).as_sql()
    columns = ", ".join(quote(c) for c in (*COLUMNS, *ROLLUP_MONTHS, "months"))
    selected = ", ".join(quote(c) for c in ("_year", "owner_id", "_value", *(f"_{name}" for name in ROLLUP_MONTHS), "_months"))
    statement = (
        f"INSERT INTO {quote(Rollup._meta.db_table)} ({columns}) "
        f"SELECT {quote('state_id')}, %s, {selected} FROM ({sql}) year_rows"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [YEAR, *params])


def _spec(leaf: Leaf) -> dict[str, Any]:
    filters = [
        [f.field, f.op.value, {"field": f.value.field} if isinstance(f.value, FieldRef) else f.value] for f in leaf.filters
    ]
    return {"source": leaf.source, "date": leaf.date, "agg": leaf.agg, "value": leaf.value, "filters": filters}


def _leaf(spec: dict[str, Any]) -> Leaf:
    def value(raw: Any) -> Any:
        if isinstance(raw, dict):
            return FieldRef(raw["field"])
        return tuple(raw) if isinstance(raw, list) else raw

    filters = tuple(Filter(name, Op(op), value(raw)) for name, op, raw in spec["filters"])
    return Leaf(spec["source"], spec["date"], get_source(spec["source"]).attribution, spec["agg"], spec["value"], filters)


# -- refreshing on writes -------------------------------------------------------------------------------------

_ORIGINAL = "_kpi_rollup_original"


def connect() -> None:
    """Watch every model rollups can be built from (called from the app's ready())."""
    from django.contrib.auth import get_user_model

    for source in SOURCES.values():
        link = owner_link(source)
        if link is None:
            continue
        uid = f"kpi-rollups-{source.key}"
        post_init.connect(_remember, sender=source.model, dispatch_uid=uid)
        post_save.connect(partial(_changed, source.key), sender=source.model, weak=False, dispatch_uid=uid)
        post_delete.connect(partial(_changed, source.key), sender=source.model, weak=False, dispatch_uid=uid)
        if link:  # the parent's owner is the records': a parent handed over or deleted moves them all
            parent = source.model._meta.get_field(link).related_model
            post_init.connect(_remember_parent_owner, sender=parent, dispatch_uid=f"{uid}-parent")
            post_save.connect(partial(_parent_changed, source.key), sender=parent, weak=False, dispatch_uid=f"{uid}-parent")
            post_delete.connect(partial(_parent_changed, source.key), sender=parent, weak=False, dispatch_uid=f"{uid}-parent")
    post_delete.connect(_owner_deleted, sender=get_user_model(), dispatch_uid="kpi-rollups-owner")


@cache
def _owner_column(model: type[models.Model]) -> str:
    """The column that says whose a record is: its owner's id, or its parent's id (whose owner it is seen through)."""
    path = getattr(model, "owner_path", "owner")
    if path == "owner":
        return "owner_id"
    link = model._meta.get_field(path.split("__")[0])
    assert isinstance(link, models.ForeignKey)
    return link.attname


@cache
def _watched_fields(model: type[models.Model]) -> list[str]:
    dates = [f.attname for f in model._meta.concrete_fields if f.get_internal_type() in {"DateField", "DateTimeField"}]
    return [*dates, _owner_column(model)]


_PARENT_OWNER = "_kpi_rollup_parent_owner"


def _remember_parent_owner(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    instance.__dict__[_PARENT_OWNER] = instance.__dict__.get("owner_id", _ORIGINAL)


def _parent_changed(source_key: str, sender: type[models.Model], instance: models.Model, using: str, **kwargs: Any) -> None:
    """A parent deleted, or saved with another owner (or one not loaded), leaves its children's rollups stale."""
    before, after = instance.__dict__.get(_PARENT_OWNER, _ORIGINAL), instance.__dict__.get("owner_id", _ORIGINAL)
    instance.__dict__[_PARENT_OWNER] = after
    if kwargs.get("created") or ("created" in kwargs and before == after != _ORIGINAL):
        return  # a new parent has no children yet; an unchanged owner moves nothing
    transaction.on_commit(partial(mark_stale, [source_key], using=using), using=using, robust=True)


def _remember(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    """What placed the record before any change: its dates and owner (never loading deferred fields)."""
    instance.__dict__[_ORIGINAL] = {name: instance.__dict__.get(name, _ORIGINAL) for name in _watched_fields(sender)}


def _changed(source_key: str, sender: type[models.Model], instance: models.Model, using: str, **kwargs: Any) -> None:
    loaded = instance.__dict__.get(_ORIGINAL, {})
    saved = {name: instance.__dict__.get(name, _ORIGINAL) for name in _watched_fields(sender)}
    instance.__dict__[_ORIGINAL] = saved
    deleted = "created" not in kwargs  # post_delete
    refresh_later = partial(_refresh_safely, source_key, sender, instance.pk, [loaded, saved], deleted, using)
    transaction.on_commit(refresh_later, using=using, robust=True)


def _owner_deleted(sender: Any, instance: Any, using: str, **kwargs: Any) -> None:
    # The records' owner becomes empty (SET_NULL, without signals): so does their rollups'.
    Rollup.objects.using(using).filter(owner_id=instance.pk).update(owner=None)


def _local_day(value: dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value, company_zone()).date() if timezone.is_aware(value) else value.date()
    return value


def _owners(model: type[models.Model], versions: list[dict[str, Any]], using: str) -> set[GroupKey] | None:
    """The owners of a record's versions: their own, or their parents' as stored now (None: a parent is gone)."""
    column = _owner_column(model)
    ids = {version[column] for version in versions}
    if column == "owner_id":
        return ids
    parent: Any = model._meta.get_field(column).related_model
    owners = dict(parent._default_manager.db_manager(using).filter(pk__in=ids).values_list("pk", "owner_id"))
    return None if owners.keys() != ids else set(owners.values())


def _placements(versions: list[dict[str, Any]], owners: set[GroupKey]) -> set[tuple[str, dt.date, GroupKey]]:
    """Every (date field, local day, owner) a record may have counted in, before or after the change.

    An instance can be stale (loaded before someone else's change, then saved with update_fields),
    so its dates and owner as loaded, as saved and as stored are all combined.
    """
    touched = set()
    for name in versions[0]:  # the owner column holds no dates: it places nothing itself
        for day in {_local_day(v[name]) for v in versions if isinstance(v[name], dt.date)}:
            touched |= {(name, day, owner) for owner in owners}
    return touched


def _refresh_safely(
    source_key: str, model: type[models.Model], pk: Any, versions: list[dict[str, Any]], deleted: bool, using: str
) -> None:
    states = RollupState.objects.using(using).filter(source=source_key)
    try:
        if not states.exists():
            return
        if not deleted:
            stored = model._default_manager.db_manager(using).filter(pk=pk).values(*_watched_fields(model)).first()
            versions = [*versions, *([stored] if stored else [])]
        if any(_ORIGINAL in version.values() for version in versions):
            # A field was deferred when the record was loaded: where it counted before is unknown.
            mark_stale([source_key], using=using)
            return
        owners = _owners(model, versions, using)
        if owners is None:  # a parent deleted with it: whose it was is gone (its deletion marked them stale)
            mark_stale([source_key], using=using)
            return
        refresh(source_key, _placements(versions, owners), pk, using=using)
    except Exception:  # the write is committed; stale rollups must not be read
        logger.exception("KPI rollups of %s could not be refreshed; marked stale until the scheduled rebuild", source_key)
        mark_stale([source_key], using=using)


def refresh(
    source_key: str, touched: Iterable[tuple[str, dt.date, GroupKey]], pk: Any = None, *, using: str = DEFAULT_DB_ALIAS
) -> None:
    """Recompute the day and year rows of (date field, local day, owner) for the source's rolled-up leaves."""
    with transaction.atomic(using=using):
        # Locking the states serialises refreshes of one source: two interleaved ones would double rows.
        states = list(RollupState.objects.using(using).select_for_update().filter(source=source_key).order_by("pk"))
        if not states:
            return
        source = get_source(source_key)
        by_date: dict[str, list[Any]] = defaultdict(list)
        for state in states:
            by_date[state.date].append(state)
        for date, day, owner in sorted(touched, key=repr):
            if date not in by_date:
                continue
            ids, leaves = [s.pk for s in by_date[date]], [_leaf(s.spec) for s in by_date[date]]
            whose = Q(owner_id=owner) if owner is not None else Q(owner_id__isnull=True)
            year = floor(day, Every.YEAR)
            Rollup.objects.using(using).filter(whose, state_id__in=ids).filter(
                Q(grain=DAY, bucket=day) | Q(grain=YEAR, bucket=year)
            ).delete()
            query = _builder(source, using, date)
            records = Q(**{source.attribution: owner}) if owner is not None else Q(**{f"{source.attribution}__isnull": True})
            rows = query.per_bucket(leaves, day, day + dt.timedelta(days=1), _day(source, date), where=records)
            Rollup.objects.using(using).bulk_create(
                Rollup(state_id=state, grain=DAY, bucket=day, owner_id=owner, value=row[f"v{index}"])
                for row in rows
                for index, state in enumerate(ids)
                if row[f"v{index}"]
            )
            _insert_years(ids, using, owner=whose, year=year)
        if pk is not None and isinstance(pk, int):
            RollupState.objects.using(using).filter(source=source_key, max_pk__gte=0).update(
                max_pk=Greatest(F("max_pk"), Value(pk))
            )
    # The write's own commit gave its table a new version before these rows were refreshed: figures kept in
    # between may have read the old rows. Another version now leaves them behind.
    transaction.on_commit(partial(dataversions.bump_tables, [source.model._meta.db_table], using), using=using)
