"""Bulk writes that still name the row the database refused.

A batch is inserted at once (`bulk.bulk_insert`: COPY on PostgreSQL) inside a savepoint. If the database refuses it (a check
constraint, a unique index: rules full_clean does not run, to keep a query per row out of the way),
the savepoint is rolled back and the batch is written again row by row, each in its own savepoint,
so the report says which row broke which rule and the others are kept.

The audit trail: an updated row's changes to audited fields get one entry each (quota.audit), as a
save through the app would; new rows get none of their own (a million imported deals are not a
million entries): the ImportRun's entry says who imported how many, when.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from auditlog.context import disable_auditlog
from django.db import DatabaseError, models, transaction

from quota.audit.services import record_bulk_updates
from quota.imports.bulk import bulk_insert
from quota.imports.problems import ProblemKind
from quota.imports.rules import describe
from quota.imports.targets import Outcome, RowWork

WRITE_BATCH = 500


def insert(model: type[models.Model], works: list[RowWork]) -> list[RowWork]:
    """Insert the rows' records; return those written (the refused ones are marked rejected)."""

    def one(work: RowWork) -> None:
        instance = _record(work)
        instance.pk = None  # bulk_create may have set ids on the part that went in before the rollback
        instance._state.adding, instance._state.db = True, None
        # New records are summarised by the import run's own audit entry, whichever way they were written.
        with disable_auditlog():
            instance.save(force_insert=True)

    return _write(model, works, lambda: bulk_insert(model, [_record(w) for w in works]), one)


def update(model: type[models.Model], works: list[RowWork]) -> list[RowWork]:
    """Save the rows' changed fields; return those written (the refused ones are marked rejected)."""

    def all_at_once() -> None:
        names = sorted({name for w in works for name in w.changed})
        model._default_manager.bulk_update([_record(w) for w in works], names, batch_size=WRITE_BATCH)
        # bulk_update sends no signals: the audit trail gets each row's changes to audited fields here.
        record_bulk_updates(model, [(w.original, _record(w), w.changed) for w in works])

    return _write(model, works, all_at_once, lambda work: _record(work).save(update_fields=work.changed))


def _write(
    model: type[models.Model], works: list[RowWork], all_at_once: Callable[[], object], one: Callable[[RowWork], None]
) -> list[RowWork]:
    """The batch in one savepoint; if the database refuses it, row by row, each in its own, to name the refused rows."""
    if not works:
        return []
    try:
        with transaction.atomic():
            all_at_once()
        return works
    except DatabaseError:
        pass
    written = []
    for work in works:
        try:
            with transaction.atomic():
                one(work)
            written.append(work)
        except DatabaseError as exc:
            _refused(work, model, exc)
    return written


def _record(work: RowWork) -> models.Model:
    assert work.instance is not None, "only built rows are written"
    return work.instance


def _refused(work: RowWork, model: type[models.Model], error: DatabaseError) -> None:
    rule = _broken_constraint(model, str(error))
    if rule is not None:
        fields = sorted(_constraint_fields(rule))
        field = next((f for f in fields if f in work.sources), fields[0] if fields else None)
        work.problem(ProblemKind.REFUSED_BY_DATABASE, describe(rule, _record(work)), field=field)
    else:
        work.problem(ProblemKind.REFUSED_BY_DATABASE, _first_line(str(error)))
    work.outcome = Outcome.REJECTED


def _broken_constraint(model: type[models.Model], message: str) -> models.BaseConstraint | None:
    for constraint in model._meta.constraints:
        if re.search(rf"\b{re.escape(constraint.name)}\b", message):
            return constraint
    return None


def _constraint_fields(constraint: models.BaseConstraint) -> set[str]:
    if isinstance(constraint, models.UniqueConstraint):
        return set(constraint.fields)
    condition = getattr(constraint, "condition", None)
    names: set[str] = set()
    stack = [condition]
    while stack:
        node = stack.pop()
        if isinstance(node, models.Q):
            stack.extend(node.children)
        elif isinstance(node, tuple):
            names.add(node[0].split("__")[0])
    return names


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0][:300] if message.strip() else "the database refused the record"
