"""Seeding a database with the generated company, start to finish, in one transaction."""

from __future__ import annotations

import datetime as dt
import sys
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from quota.accounts.models import bump_team_tree_version
from quota.crm.history import fill_states_from_stage_changes
from quota.crm.models import DealState
from quota.seed.clock import Clock
from quota.seed.custom import ensure_custom_fields
from quota.seed.database import describe, existing_rows, flush_seeded_tables
from quota.seed.lifecycle import seed_lifecycles
from quota.seed.reference import load_reference
from quota.seed.sizes import BadArgument, Scale, scale_for
from quota.seed.world import SEEDED_MODELS, plan_company
from quota.seed.writers import writer_for_connection


class DatabaseNotEmpty(Exception):
    def __init__(self, rows: dict[str, int]) -> None:
        self.rows = rows
        super().__init__(f"the database already has data ({describe(rows)})")


class DatabaseNotMigrated(Exception):
    pass


@dataclass(frozen=True)
class SeedReport:
    scale: Scale
    today: dt.date
    rows: dict[str, int]  # table -> rows written
    seconds: float

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total / self.seconds if self.seconds else 0.0


def require_migrated() -> None:
    missing = {m._meta.db_table for m in SEEDED_MODELS} - set(connection.introspection.table_names())
    if missing:
        raise DatabaseNotMigrated(f"the database has no {sorted(missing)[0]} table yet: run `quota migrate` first")


def _skip_foreign_key_triggers() -> None:
    """On PostgreSQL, skip per-row foreign key triggers for this transaction when allowed (superuser).

    Checking tens of millions of references one by one at commit (and as many for a flush's
    DELETEs) would cost more than the load itself; the generator only writes ids it has created,
    and the flush removes referencing rows first (the tests verify both). Without the privilege
    the checks simply run.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT usesuper FROM pg_user WHERE usename = current_user")
        row = cursor.fetchone()
        if row and row[0]:
            cursor.execute("SET LOCAL session_replication_role = replica")


def seed_company(
    *, size: str, seed: int, today: dt.date | None = None, flush: bool = False, progress: bool = False
) -> SeedReport:
    """Generate the company of `size` from `seed` with history up to `today`, into an empty database.

    Raises BadArgument (size or seed), DatabaseNotMigrated, DatabaseNotEmpty (unless `flush`),
    reference.MissingReferenceData, or a DatabaseError; on any error nothing is written.
    """
    if seed < 0:
        raise BadArgument(f"--seed must be zero or more, not {seed}")
    scale = scale_for(size)
    today = today or timezone.localdate()
    clock = Clock.ending(today, settings.TIME_ZONE)
    writer = writer_for_connection()
    require_migrated()
    started = time.perf_counter()
    rows: dict[str, int] = {}
    with transaction.atomic():
        _skip_foreign_key_triggers()
        if flush:
            flush_seeded_tables()
        existing = existing_rows()
        if existing:
            raise DatabaseNotEmpty(existing)
        reference = load_reference(clock, seed)
        ensure_custom_fields()
        if progress:
            print(f"Drawing {scale.label} ...", file=sys.stderr)
        for plan in plan_company(scale, seed, clock, reference):
            scaled = plan.rows >= 10_000  # 1.2M rows, but 12 rows (not 12.0)
            bar = tqdm(total=plan.rows, desc=plan.table, unit=" rows", unit_scale=scaled, file=sys.stderr, disable=not progress)
            with bar:
                rows[plan.table] = writer.write(plan.table, plan.batches(), bar, plan.rows)
            if rows[plan.table] != plan.rows:
                raise RuntimeError(f"{plan.table}: planned {plan.rows:,} rows but wrote {rows[plan.table]:,}")
        # The pipeline's history (crm.DealState) of the deals never revised (the plan wrote the others') is read
        # off the stage changes just written, in the database.
        fill_states_from_stage_changes()
        rows[DealState._meta.db_table] = DealState.objects.count()
        # Customers since their first won deal, some churned since (updates of rows written above, not new rows).
        seed_lifecycles(seed, today)
        writer.finish(list(rows))
    # Rows were written without model signals: drop cached team memberships (see accounts.models).
    bump_team_tree_version()
    return SeedReport(scale, today, rows, time.perf_counter() - started)
