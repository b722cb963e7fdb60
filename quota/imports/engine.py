"""The import engine: files + mappings in, records and a report out, all or nothing.

    run_import(steps, options=...) -> Report

One run is a list of steps (one file into one kind of record each; a preset is several, the
command line's generic form is one) executed in ONE transaction:

1. set up the preset's reference records, open every file and check every mapping against its
   header; any problem here stops the run before a single row is read;
2. per step, stream the rows in batches: map and type each cell, find referenced records by natural
   key (one query per field per batch), find duplicates (by the target's keys), build and validate
   the record (full_clean), then bulk-write the batch with the records that go with it (stage history);
3. roll back if it was a dry run, or if any row had an error and bad rows were not to be skipped.

A dry run therefore runs exactly the code a commit runs, against the database's own rules, and
leaves nothing behind (django-import-export previews the same way). Memory is bounded by the batch
size: rows are streamed, problems are kept as counts plus a few examples, duplicates are looked up
in the database rather than remembered.

At a million rows (see `quota.bench.imports`): batches of BATCH_ROWS, referenced records remembered
between batches (keys.Resolver), each field's parse and check remembered per distinct text or value
(validation.RecordValidator gives full_clean's messages), new records written with COPY on
PostgreSQL (bulk.bulk_insert), and the planner's statistics kept up as the table grows. An import
sends no domain events or webhooks (a million historical deals are not a million "deal won"
notifications; the ImportRun is its trace), and after a commit rebuilds the KPI rollups of what
it wrote, which bulk writes would otherwise leave stale (imports.rollups).
"""

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, models, transaction

from quota.core.money import company_currency
from quota.crm.choices import CustomFieldType, DealStatus
from quota.crm.custom_fields import definitions_held
from quota.crm.models import LeadSource, LossReason
from quota.imports import values as parse
from quota.imports.bulk import keep_statistics
from quota.imports.checks import check_step
from quota.imports.keys import Found, Key, Resolver, fold
from quota.imports.mapping import LATEST_DATE, FieldRule, StepMapping, apply, latest_date_columns
from quota.imports.missing import (
    BLANK_AS_GROUP,
    BLANK_GROUP,
    CREATABLE,
    CREATE_MISSING,
    CUSTOM_PREFIX,
    CreateError,
    InferredType,
    MissingRecords,
    TypeGuess,
)
from quota.imports.problems import Problem, ProblemKind, Severity
from quota.imports.report import Report, Status, StepReport
from quota.imports.rollups import rebuild_after_import
from quota.imports.setup import Setup, SetupError
from quota.imports.sources import EXTRA_CELLS, FileInput, Source, SourceError
from quota.imports.targets import TARGETS, FieldKind, Outcome, RowWork, StepContext, Target, TargetField, target_named
from quota.imports.targets.base import custom_value, validation_messages
from quota.imports.validation import RecordValidator
from quota.imports.writer import insert, update

# Kinds whose typed value depends only on the text (and the step's time zone): parsed once per distinct text.
MEMO_KINDS = frozenset({FieldKind.DATE, FieldKind.DATETIME, FieldKind.CHOICE, FieldKind.BOOLEAN})
MEMO_VALUES = 4096  # per field: the first ones seen, no more, so memory stays bounded
MEMO_LONGEST = 100  # characters
BATCH_ROWS = 2000  # rows read, looked up and written together; memory follows this, not the file


@dataclass
class PlannedStep:
    """One file into one kind of record."""

    name: str
    file: FileInput
    mapping: StepMapping
    file_name: str | None = None
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None


@dataclass
class ImportOptions:
    dry_run: bool = False
    on_duplicate: str = "skip"  # or "update": merge the file's non-blank values into the existing record
    skip_bad_rows: bool = False  # commit the good rows and report the bad ones, instead of nothing
    by: Any = None  # the user importing; None for system work (the command line)
    batch_rows: int = BATCH_ROWS
    create_missing: bool = False  # create the lead sources, loss reasons and custom fields the file names (imports.missing)
    blank_as_group: bool = False  # a blank lead source is the one named "(blank)", not a refused row (imports.missing)
    progress: Callable[[int], None] | None = None  # told the rows read so far (all steps), after each batch
    on_problem: Callable[[str, Problem], None] | None = None  # told every problem (the log keeps only examples)


class _Rollback(Exception):
    pass


class _Aborted(Exception):
    """A file turned unreadable halfway (a broken CSV quote, a damaged workbook)."""


def run_import(steps: list[PlannedStep], *, options: ImportOptions, title: str, setup: Setup | None = None) -> Report:
    report = Report(title=title, dry_run=options.dry_run, on_duplicate=options.on_duplicate, skip_bad_rows=options.skip_bad_rows)
    report.problems.listener = options.on_problem
    started = time.monotonic()
    missing = MissingRecords(by=options.by) if options.create_missing else None
    try:
        with transaction.atomic():
            _run(steps, setup, options, report, missing)
            if report.status == Status.FAILED or options.dry_run:
                raise _Rollback
    except _Rollback:
        pass
    except _Aborted as exc:
        report.fail(f"{exc}; nothing was imported")
    except DatabaseError as exc:
        report.fail(f"the database refused the import ({str(exc).strip().splitlines()[0][:200]}); nothing was imported")
    if missing is not None:
        missing.settle()
        report.created = missing.created
    report.seconds = time.monotonic() - started
    if report.status == Status.RUNNING:
        report.status = Status.CHECKED if options.dry_run else Status.COMMITTED
        report.reason = _success_reason(report)
    if report.status == Status.COMMITTED:
        rebuilding = time.monotonic()
        report.rollups = rebuild_after_import(report)  # bulk writes send no signals: dashboards must not read stale rollups
        report.rollup_seconds = time.monotonic() - rebuilding
    return report


def _run(
    steps: list[PlannedStep], setup: Setup | None, options: ImportOptions, report: Report, missing: MissingRecords | None
) -> None:
    try:
        report.setup = setup.apply(by=options.by) if setup else []
    except SetupError as exc:
        report.fail(f"the preset's setup is not usable: {exc}")
        return
    ready = [opened for step in steps if (opened := _open_step(step, report, missing, options)) is not None]
    _note_ignored_columns(ready, report)
    if report.problems.count(Severity.ERROR):
        report.fail(_failure_reason(report, before_rows=True))
        return
    resolver, watch = Resolver(), Watch()
    for step, source, target, fields, step_report in ready:
        StepRunner(step, source, target, fields, step_report, report, options, resolver, watch, missing).run()
    watch.report(report)
    if report.problems.count(Severity.ERROR) and not options.skip_bad_rows:
        report.fail(_failure_reason(report, before_rows=False))


def _open_step(
    step: PlannedStep, report: Report, missing: MissingRecords | None, options: ImportOptions
) -> tuple[PlannedStep, Source, Target, dict[str, TargetField], StepReport] | None:
    step_report = StepReport(name=step.name, file=step.file_name or "", into=step.mapping.into)
    report.steps.append(step_report)
    try:
        source = Source(step.file, name=step.file_name, sheet=step.sheet, encoding=step.encoding, delimiter=step.delimiter)
    except SourceError as exc:
        report.problems.add(step.name, Problem(ProblemKind.UNREADABLE_FILE, f"{step.file_name or 'the file'}: {exc}"))
        return None
    step_report.file, step_report.encoding, step_report.delimiter = source.info.name, source.info.encoding, source.info.delimiter
    if source.info.encoding_note:
        report.problems.add(
            step.name,
            Problem(
                ProblemKind.ENCODING_FALLBACK, f"{source.info.name}: {source.info.encoding_note}", value=source.info.encoding
            ),
        )
    try:
        target = target_named(step.mapping.into)
    except KeyError as exc:
        report.problems.add(step.name, Problem(ProblemKind.UNKNOWN_FIELD, str(exc.args[0])))
        return None
    fields = target.fields()
    if missing is not None and _create_custom_fields(step, source, target, fields, missing, report):
        fields = target.fields()
    problems = check_step(
        step.mapping,
        source.info.header,
        target,
        fields,
        company_currency=company_currency(),
        updating=options.on_duplicate == "update",
    )
    for problem in problems:
        report.problems.add(step.name, problem)
    return step, source, target, fields, step_report


def _create_custom_fields(
    step: PlannedStep, source: Source, target: Target, fields: dict[str, TargetField], missing: MissingRecords, report: Report
) -> bool:
    """The custom fields the mapping names and the record lacks, typed by their column's values (one extra pass)."""
    wanted = {name: rule for name, rule in step.mapping.fields.items() if name.startswith(CUSTOM_PREFIX) and name not in fields}
    if not wanted or not target.custom_target:
        return False  # nothing to create, or a record without custom fields: check_step says so
    only = StepMapping(into=step.mapping.into, fields=wanted, fixes=step.mapping.fixes)
    guesses = {name: TypeGuess(date_format=rule.date_format) for name, rule in wanted.items()}
    try:
        for _, row in source.rows():
            mapped = apply(only, row, resolved_defaults={})
            for name, guess in guesses.items():
                guess.add(mapped.values.get(name))
    except SourceError as exc:
        raise _Aborted(f"{step.name}: {source.info.name}: {exc}") from exc
    created = False
    for name, rule in wanted.items():
        try:
            missing.custom_field(
                target=target.custom_target,
                key=name.removeprefix(CUSTOM_PREFIX),
                label=rule.column or name.removeprefix(CUSTOM_PREFIX),
                # a referenced record is kept by the text the file names it by
                inferred=InferredType(CustomFieldType.TEXT) if rule.references else guesses[name].result(),
            )
            created = True
        except CreateError as exc:
            report.problems.add(step.name, Problem(ProblemKind.INVALID_MAPPING, str(exc), value=name))
    return created


def _note_ignored_columns(ready: list[tuple[Any, ...]], report: Report) -> None:
    """Columns no step reads, once per file (a preset reads one file in several steps)."""
    used: dict[str, set[str]] = {}
    headers: dict[str, tuple[str, list[str]]] = {}
    for step, source, *_ in ready:
        used.setdefault(source.info.name, set()).update(step.mapping.columns())
        headers.setdefault(source.info.name, (step.name, source.info.header))
    for name, (step_name, header) in headers.items():
        ignored = [c for c in header if c and c not in used[name]]
        if ignored:
            message = f"{name}: {', '.join(ignored)}"
            report.problems.add(step_name, Problem(ProblemKind.IGNORED_COLUMNS, message, value=", ".join(ignored)))


def _failure_reason(report: Report, *, before_rows: bool) -> str:
    errors = [g for g in report.problems.ordered() if g.severity == Severity.ERROR]
    first = errors[0].examples[0]
    where = ", ".join(filter(None, [errors[0].step, f"row {first.row}" if first.row else "", first.column or ""]))
    if before_rows:
        more = sum(g.count for g in errors) - 1
        return f"{where}: {first.message}" + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")
    rows = report.problems.error_rows()
    return (
        f"{rows:,} row{'s have' if rows != 1 else ' has'} errors (first: {where}: {first.message}); nothing was imported. "
        "Fix them, or skip bad rows to import the rest."
    )


def _success_reason(report: Report) -> str:
    totals = report.totals()
    done = "would be" if report.dry_run else "were"
    text = f"{totals[Outcome.CREATED]:,} records {done} created, {totals[Outcome.UPDATED]:,} updated"
    if totals[Outcome.REJECTED]:
        text += f", {totals[Outcome.REJECTED]:,} bad rows skipped"
    return text + ("; nothing was written (dry run)" if report.dry_run else "")


class Watch:
    """Records a step asked about (report_unreferenced) that no later step has referred to yet."""

    def __init__(self) -> None:
        self.pending: dict[tuple[type[models.Model], int], Problem] = {}
        self.steps: dict[tuple[type[models.Model], int], str] = {}

    def register(self, step: str, target: Target, works: list[RowWork], column: str | None) -> None:
        for work in works:
            record = work.existing if work.outcome == Outcome.SKIPPED else work.instance
            if record is None or record.pk is None or work.outcome == Outcome.REJECTED:
                continue
            key = (type(record), record.pk)
            if key not in self.pending:
                label = target.display(record)
                self.pending[key] = Problem(
                    ProblemKind.UNREFERENCED,
                    f"{label}: no later file refers to this {record._meta.verbose_name}",
                    row=work.number,
                    column=column,
                    value=label,
                )
                self.steps[key] = step

    def seen(self, record: models.Model) -> None:
        if self.pending:
            self.pending.pop((type(record), record.pk), None)

    def report(self, report: Report) -> None:
        for key, problem in sorted(self.pending.items(), key=lambda item: item[1].row or 0):
            report.problems.add(self.steps[key], problem)


class StepRunner:
    """Streams one file through one target, a batch at a time."""

    def __init__(
        self,
        step: PlannedStep,
        source: Source,
        target: Target,
        fields: dict[str, TargetField],
        step_report: StepReport,
        report: Report,
        options: ImportOptions,
        resolver: Resolver,
        watch: Watch,
        missing: MissingRecords | None = None,
    ) -> None:
        self.step, self.source, self.target, self.fields = step, source, target, fields
        self.missing = missing
        self.mapping = step.mapping
        self.step_report, self.report, self.options, self.watch = step_report, report, options, watch
        self.model = target.model
        self.ctx = StepContext(
            name=step.name,
            by=options.by,
            currency=self.mapping.currency or company_currency(),
            company_currency=company_currency(),
            on_duplicate=options.on_duplicate,
            resolver=resolver,
            mapped=set(self.mapping.fields),
            amount_known_before_close=self.mapping.amount_known == "always",
        )
        self.match_fields = list(self.mapping.match or target.match_fields)
        self.record_fields = self._record_fields()
        self.model_record_fields = [n for n, f in fields.items() if f.kind == FieldKind.RECORD]
        self.validator = RecordValidator(self.model, exclude=self.model_record_fields)
        self.written, self.analyzed = 0, 0  # rows this step inserted, and how many when the table was last analyzed
        self.sources = {name: rule.source_label for name, rule in self.mapping.fields.items()}  # shared, read only
        self.keyed_rows = 0
        self.defaults: dict[str, Any] = {}
        self.memo: dict[str, dict[str, tuple[Any, str | None]]] = {}
        self.default_notes: dict[str, str] = {}
        self.blank_grouped = self._blank_grouped() if options.blank_as_group else frozenset()
        # A loss reason belongs to a lost deal: a blank one elsewhere stays blank, not "(blank)".
        self.blank_grouped_when_lost = frozenset(n for n in self.blank_grouped if self.fields[n].related is LossReason)
        self.updating = options.on_duplicate == "update"

    def _blank_grouped(self) -> frozenset[str]:
        """Mapped lead source and loss reason fields: a blank in them is the record named "(blank)" (--blank-as-group)."""
        return frozenset(
            name for name, rule in self.mapping.fields.items() if self.fields[name].related in CREATABLE and not rule.references
        )

    def _record_fields(self) -> list[str]:
        """Mapped fields that name another record; a scope (pipeline) before what it scopes (stage)."""
        names = [n for n, rule in self.mapping.fields.items() if self.fields[n].kind == FieldKind.RECORD or rule.references]
        return sorted(names, key=lambda n: n in self.target.scopes)

    # ------------------------------------------------------------------ the loop

    def run(self) -> None:
        with definitions_held():  # the step's records are validated against one reading of the custom fields
            self._run()

    def _run(self) -> None:
        self._resolve_latest_defaults()
        rows = self._rows()
        while chunk := list(itertools.islice(rows, self.options.batch_rows)):
            works = [self._read(number, row) for number, row in chunk]
            self._find_records(works)
            self._find_existing(works)
            for work in works:
                self._build(work)
            self._write(works)
            self._tally(works)
            if self.options.progress:
                self.options.progress(sum(s.rows for s in self.report.steps))
        if self.step_report.rows and self.match_fields and not self.keyed_rows:
            fields = ", ".join(self.match_fields)
            self.report.problems.add(
                self.step.name, Problem(ProblemKind.NO_DUPLICATE_CHECK, f"no row has a value in {fields}", value=fields)
            )

    def _rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            yield from self.source.rows()
        except SourceError as exc:
            raise _Aborted(f"{self.step.name}: {self.source.info.name}: {exc}") from exc

    def _resolve_latest_defaults(self) -> None:
        wanted = {
            name: latest_date_columns(rule.default)
            for name, rule in self.mapping.fields.items()
            if isinstance(rule.default, str) and rule.default.startswith(LATEST_DATE)
        }
        if not wanted:
            return
        latest: dict[str, Any] = dict.fromkeys(wanted)
        for _, row in self._rows():  # one extra streaming pass: the data's as-of date
            for name, columns in wanted.items():
                for column in columns:
                    if parse.is_blank(row.get(column)):
                        continue
                    try:
                        day = parse.date(row[column], date_format=self.mapping.fields[name].date_format)
                    except parse.ValueProblem:
                        continue
                    if latest[name] is None or day > latest[name]:
                        latest[name] = day
        for name, day in latest.items():
            self.defaults[name] = day.isoformat() if day else None
            if day:
                self.default_notes[name] = (
                    f"used {day.isoformat()}, the latest date in {' and '.join(wanted[name])} (the data's as-of date)"
                )

    # ------------------------------------------------------------------ reading a row

    def _read(self, number: int, row: dict[str, Any]) -> RowWork:
        mapped = apply(self.mapping, row, resolved_defaults=self.defaults)
        for name in (self.blank_grouped - self.blank_grouped_when_lost) & mapped.blank:
            mapped.blank.discard(name)
            mapped.values[name] = mapped.defaulted[name] = BLANK_GROUP
        work = RowWork(
            number=number,
            values={},
            raw={name: parse.text(value) for name, value in mapped.values.items()},
            sources=self.sources,
            blank=mapped.blank,
            defaulted=mapped.defaulted,
        )
        if row.get(EXTRA_CELLS):
            work.problems.append(
                Problem(
                    ProblemKind.INVALID_VALUE,
                    f"the row has {row[EXTRA_CELLS]} more cell(s) than the header: a delimiter inside an unquoted value?",
                    row=number,
                )
            )
        for column, wrong, right in mapped.fixed:
            work.problems.append(
                Problem(
                    ProblemKind.VALUE_FIXED,
                    f"{wrong!r} corrected to {right!r}",
                    row=number,
                    column=column,
                    value=f"{wrong} -> {right}",
                )
            )
        for name, raw in mapped.values.items():
            self._parse_into(work, name, raw)
        self.target.derive(work)
        if self.blank_grouped_when_lost and work.values.get("status") == DealStatus.LOST:
            for name in self.blank_grouped_when_lost & work.blank:
                work.blank.discard(name)
                work.values[name] = work.raw[name] = work.defaulted[name] = BLANK_GROUP
        if not self.updating:
            self._check_required(work)  # updating: only a row that matches no record needs them (see _build)
        for name in self.mapping.warn_if_blank:
            if name in work.blank:
                work.problem(ProblemKind.BLANK_REFERENCE, f"blank {name}: imported without one", field=name, value="")
        return work

    def _parse_into(self, work: RowWork, name: str, raw: Any) -> None:
        spec, rule = self.fields[name], self.mapping.fields[name]
        if isinstance(raw, str) and "\x00" in raw:
            # PostgreSQL cannot store it and SQLite would: refused the same way on both.
            work.problem(ProblemKind.INVALID_VALUE, "contains a NUL character (binary data in a text file?)", field=name)
            return
        try:
            value = (
                self._typed_memo(spec, rule, raw)
                if spec.kind in MEMO_KINDS and isinstance(raw, str)
                else self._typed(spec, rule, raw)
            )
        except parse.ValueProblem as exc:
            work.problem(ProblemKind.INVALID_VALUE, str(exc), field=name)
            return
        if spec.kind == FieldKind.DECIMAL and spec.decimal_places is not None and not spec.custom_key:
            value = self._rounded(work, name, value, spec.decimal_places)
        work.values[name] = value

    def _rounded(self, work: RowWork, name: str, value: Decimal, places: int) -> Decimal:
        """Cents of a computed export (1054.5549999) are rounded, not refused; the report says so."""
        try:
            rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        except InvalidOperation:
            return value  # too many digits to round: the model's own check reports it
        if rounded != value:
            work.problem(ProblemKind.ROUNDED, f"{value} rounded to {rounded}", field=name)
        return rounded

    def _typed_memo(self, spec: TargetField, rule: FieldRule, raw: str) -> Any:
        """`_typed`, remembered per field and text: a file repeats its dates, statuses and stages."""
        memo = self.memo.setdefault(spec.name, {})
        known = memo.get(raw)
        if known is None:
            try:
                known = (self._typed(spec, rule, raw), None)
            except parse.ValueProblem as exc:
                known = (None, str(exc))
            if len(memo) < MEMO_VALUES and len(raw) <= MEMO_LONGEST:
                memo[raw] = known
        if known[1] is not None:
            raise parse.ValueProblem(known[1])  # a new one: raising one object again would lengthen its traceback
        return known[0]

    def _typed(self, spec: TargetField, rule: FieldRule, raw: Any) -> Any:
        kind = spec.kind
        if kind in (FieldKind.DECIMAL, FieldKind.INTEGER):
            number = parse.decimal(raw, decimal_comma=rule.decimal_comma)
            if rule.multiply is not None:
                number *= rule.multiply
            return parse.integer(number) if kind == FieldKind.INTEGER else number
        if kind == FieldKind.DATE:
            return parse.date(raw, date_format=rule.date_format)
        if kind == FieldKind.DATETIME:
            return parse.datetime(raw, date_format=rule.date_format)
        if kind == FieldKind.BOOLEAN:
            return parse.boolean(raw)
        if kind == FieldKind.CHOICE and not rule.references:
            return parse.choice(raw, list(spec.choices))
        return parse.text(raw)

    def _check_required(self, work: RowWork) -> None:
        unmapped = []
        for name, spec in self.fields.items():
            if not spec.required or work.values.get(name) not in (None, ""):
                continue
            if name in work.raw:
                continue  # it had a value that could not be read, and that is reported
            stand_ins = [s for s in self.target.stand_ins.get(name, ()) if s in self.mapping.fields]
            if name in self.mapping.fields or stand_ins:
                shown = name if name in self.mapping.fields else stand_ins[0]
                work.problem(ProblemKind.REQUIRED_BLANK, f"{spec.label} is required", field=shown, value="")
            else:
                unmapped.append(str(spec.label))
        if unmapped:  # updating, and the row matches no record: a new one needs what the file does not map
            verbose = self.model._meta.verbose_name
            needs = " and ".join(unmapped)
            them = "columns to them" if len(unmapped) > 1 else "a column to it"
            work.problem(
                ProblemKind.REQUIRED_BLANK,
                f"matches no existing {verbose}, and a new {verbose} needs {needs}: map {them}",
                value="",
            )

    # ------------------------------------------------------------------ references and duplicates

    def _find_records(self, works: list[RowWork]) -> None:
        for name in self.record_fields:
            rule, spec = self.mapping.fields[name], self.fields[name]
            referenced_target = TARGETS[rule.references]() if rule.references else None
            model = referenced_target.model if referenced_target else spec.related
            assert model is not None
            scope_field = self.target.scopes.get(name)
            groups: dict[Any, tuple[models.Model | None, list[RowWork]]] = {}
            for work in works:
                if not isinstance(work.values.get(name), str):
                    continue
                scope = None
                if scope_field:
                    scope = work.values.get(scope_field)
                    if scope_field in self.mapping.fields and not isinstance(scope, models.Model):
                        continue  # its scope is missing or unknown, and already reported
                    scope = scope or self.target.scope_default(scope_field, self.ctx)
                groups.setdefault(scope.pk if scope else None, (scope, []))[1].append(work)
            for scope, group in groups.values():
                values = {w.values[name] for w in group}
                found = self.ctx.resolver.find_many(model, values, scope=scope, suggest=True, remember=True)
                refused = self._create_missing(model, values, found) if self._creates(model, referenced_target) else {}
                for work in group:
                    folded = fold(work.values[name])
                    if folded in refused:
                        work.problem(ProblemKind.INVALID_VALUE, refused[folded], field=name)
                        work.values.pop(name)
                        continue
                    self._take(work, name, found[folded], model, scope, referenced_target)

    def _creates(self, model: type[models.Model], referenced: Target | None) -> bool:
        return self.missing is not None and referenced is None and model in CREATABLE

    def _create_missing(self, model: type[models.Model], values: set[str], found: dict[str, Found]) -> dict[str, str]:
        """Create the records the batch names that do not exist (--create-missing); {folded value: why not} for those refused."""
        assert self.missing is not None
        refused: dict[str, str] = {}
        created = False
        for value in sorted(values):
            folded = fold(value)
            if found[folded].record is not None or found[folded].candidates or folded in refused:
                continue
            try:
                found[folded] = Found(record=self.missing.reference(model, value))
                created = True
            except CreateError as exc:
                refused[folded] = str(exc)
        if created:
            self.ctx.resolver.forget(model)  # its remembered answers said "there is none"
        return refused

    def _take(
        self, work: RowWork, name: str, found: Found, model: type[models.Model], scope: Any, referenced: Target | None
    ) -> None:
        value = work.values.pop(name)
        if found.record is not None:
            self.watch.seen(found.record)
            work.values[name] = referenced.display(found.record) if referenced else found.record
            return
        what = f"{model._meta.verbose_name} {value!r}" + (f" in {scope}" if scope is not None else "")
        if found.candidates:
            work.problem(ProblemKind.AMBIGUOUS, f"{found.candidates} records match {what}; make the names unique", field=name)
        elif name in self.blank_grouped and value == BLANK_GROUP:
            command = f" (`quota leadsource add blank --name {BLANK_GROUP!r}`)" if model is LeadSource else ""
            work.problem(
                ProblemKind.NOT_FOUND,
                f"there is no {what} for the blank values ({BLANK_AS_GROUP}): add one named {BLANK_GROUP!r}{command}, "
                f"or let the import create it ({CREATE_MISSING})",
                field=name,
            )
        else:
            hint = f"; did you mean {found.suggestion!r}?" if found.suggestion else ""
            if model in CREATABLE and referenced is None:
                hint += f"; the import creates missing {model._meta.verbose_name_plural} with {CREATE_MISSING}"
            work.problem(ProblemKind.NOT_FOUND, f"there is no {what}{hint}", field=name)

    def _find_existing(self, works: list[RowWork]) -> None:
        keys: dict[int, dict[str, str]] = {id(w): {} for w in works}
        found: dict[tuple[int, str], Found] = {}
        for field_name in self.match_fields:
            by_key: dict[Key, list[tuple[RowWork, str]]] = {}
            for work in works:
                matched = self.target.match_key(field_name, work)
                if matched is not None and str(matched[1]).strip():
                    keys[id(work)][field_name] = fold(matched[1])
                    if not work.has_errors:
                        by_key.setdefault(matched[0], []).append((work, str(matched[1])))
            for key, pairs in by_key.items():
                results = self.ctx.resolver.find_many(self.model, {v for _, v in pairs}, keys=[key])
                for work, value in pairs:
                    found[(id(work), field_name)] = results[fold(value)]
        self.keyed_rows += sum(1 for w in works if keys[id(w)])
        candidates = [w for w in works if not w.has_errors]
        pending: dict[tuple[str, str], RowWork] = {}
        claimed: dict[Any, RowWork] = {}
        for work in candidates:
            row_keys = keys[id(work)]
            for field_name, folded in row_keys.items():
                result = found[(id(work), field_name)]
                if result.candidates > 1:
                    work.problem(
                        ProblemKind.AMBIGUOUS,
                        f"{result.candidates} existing {self.model._meta.verbose_name_plural} have this {field_name}",
                        field=field_name,
                    )
                    break
                if result.record is not None:
                    if result.record.pk in claimed:
                        work.duplicate_of = claimed[result.record.pk]
                    else:
                        work.existing = result.record
                        claimed[result.record.pk] = work
                    break
                if (field_name, folded) in pending:
                    work.duplicate_of = pending[(field_name, folded)]
                    break
            if work.existing is None and work.duplicate_of is None:
                for field_name, folded in row_keys.items():
                    pending.setdefault((field_name, folded), work)

    # ------------------------------------------------------------------ building and validating

    def _build(self, work: RowWork) -> None:
        if work.has_errors:
            work.outcome = Outcome.REJECTED
            return
        anchor = work.duplicate_of if work.duplicate_of and work.duplicate_of.outcome != Outcome.REJECTED else None
        base = work.existing if work.existing is not None else (anchor.instance if anchor else None)
        if base is None:
            if self.updating:
                self._check_required(work)
                if work.has_errors:
                    work.outcome = Outcome.REJECTED
                    return
            work.outcome = Outcome.CREATED if self._assemble(work, self.target.new_instance(), merge=False) else Outcome.REJECTED
        elif self.options.on_duplicate == "skip":
            # Its values were read and its references found like any row's; it is not validated as a
            # record because none is written (a re-import of 100,000 rows costs no 100,000 full_cleans).
            ok = self._assemble(work, self.target.new_instance(), merge=False, validate=False)
            work.outcome = Outcome.SKIPPED if ok else Outcome.REJECTED
        else:
            self._merge(work, base, anchor)

    def _merge(self, work: RowWork, base: models.Model, anchor: RowWork | None) -> None:
        instance = copy.copy(base)
        work.creating = anchor.creating if anchor else False
        work.original = anchor.original if anchor else copy.copy(base)
        if not self._assemble(work, instance, merge=True):
            work.outcome = Outcome.REJECTED
            return
        changed = bool(changed_fields(base, instance))
        if anchor is not None:
            anchor.instance = instance  # the earlier row of this batch is written with both rows' values
        work.outcome = Outcome.UPDATED if changed else Outcome.UNCHANGED

    def _assemble(self, work: RowWork, instance: models.Model, *, merge: bool, validate: bool = True) -> bool:
        work.instance = instance  # what the target's rules look at
        kept: set[str] = set()  # defaults not used: the record had a value
        for name, value in work.values.items():
            spec = self.fields[name]
            if spec.virtual:
                continue
            if merge and name in work.defaulted and not _is_empty(_current(instance, spec)):
                kept.add(name)
                continue  # a default fills a gap; it does not overwrite what the record has
            if spec.custom_key:
                instance.custom = {**(instance.custom or {}), spec.custom_key: custom_value(spec.kind, value)}  # type: ignore[attr-defined]
            else:
                setattr(instance, name, value)
        if not merge and hasattr(instance, "currency") and "currency" not in self.mapping.fields:
            instance.currency = self.ctx.currency
        self._convert_to_company_currency(work, instance)
        self.target.prepare(work, self.ctx)
        if validate and not work.has_errors:
            self._validate(work, instance)
        if not work.has_errors and validate:  # not validated: a duplicate left as it is, so no default was used
            for name, used in work.defaulted.items():
                if name in kept:
                    continue
                if name in self.blank_grouped and used == BLANK_GROUP:
                    note = f"blank {name}: counted in the {BLANK_GROUP} group"
                    work.problem(ProblemKind.BLANK_GROUPED, note, field=name, value="")
                    continue
                note = self.target.default_note(name, used) or f"blank {name}: {self.default_notes.get(name, f'used {used!r}')}"
                work.problem(ProblemKind.DEFAULT_USED, note, field=name, value="")
        return not work.has_errors

    def _convert_to_company_currency(self, work: RowWork, instance: models.Model) -> None:
        if self.ctx.currency == self.ctx.company_currency:
            return
        for name in self.target.company_currency_fields & work.values.keys():
            try:
                rate = self.ctx.rate(self.ctx.currency, self.ctx.now.date())
            except ValidationError as exc:
                work.problem(ProblemKind.NO_EXCHANGE_RATE, " ".join(exc.messages), field=name)
                return
            converted = (work.values[name] * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            setattr(instance, name, converted)
            work.problem(
                ProblemKind.CONVERTED_CURRENCY,
                f"{work.values[name]} {self.ctx.currency} recorded as {converted} {self.ctx.company_currency} (rate {rate})",
                field=name,
            )

    def _validate(self, work: RowWork, instance: models.Model) -> None:
        try:
            # full_clean without the related records, which were checked by natural key already (it
            # would query each one again), and without constraints, which the database enforces and
            # the writer reports per row; each field's outcome is remembered per value (see validation).
            self.validator.validate(instance)
        except ValidationError as exc:
            for name, message in validation_messages(exc):
                work.problem(ProblemKind.INVALID_RECORD, message, field=name)

    # ------------------------------------------------------------------ writing

    def _write(self, works: list[RowWork]) -> None:
        creates = [w for w in works if w.outcome == Outcome.CREATED]
        created = insert(self.model, creates)
        self.written += len(created)
        self.analyzed = keep_statistics(self.model, self.written, self.analyzed)
        updates = []
        for work in works:
            if work.existing is not None and work.outcome in (Outcome.UPDATED, Outcome.UNCHANGED):
                assert work.instance is not None
                work.changed = changed_fields(work.original, work.instance)
                if work.changed:
                    updates.append(work)
        updated = update(self.model, updates)
        if created or updated:
            self.target.after_write(created, updated, self.ctx)
            self.ctx.resolver.forget(self.model)
        if self.mapping.report_unreferenced:
            column = next((self.mapping.fields[f].source_label for f in self.match_fields if f in self.mapping.fields), None)
            self.watch.register(self.step.name, self.target, works, column or self._name_column())

    def _name_column(self) -> str | None:
        rule = self.mapping.fields.get("name") or self.mapping.fields.get("last_name")
        return rule.source_label if rule else None

    def _tally(self, works: list[RowWork]) -> None:
        self.step_report.rows += len(works)
        for work in works:
            self.step_report.counts[work.outcome or Outcome.REJECTED] += 1
            for problem in work.problems:
                self.report.problems.add(self.step.name, problem)


def changed_fields(before: models.Model, after: models.Model) -> list[str]:
    return [
        f.name
        for f in after._meta.concrete_fields
        if not f.primary_key
        and not isinstance(f, models.GeneratedField)
        and getattr(before, f.attname) != getattr(after, f.attname)
    ]


def _current(instance: models.Model, spec: TargetField) -> Any:
    if spec.custom_key:
        return (getattr(instance, "custom", None) or {}).get(spec.custom_key)
    if spec.kind == FieldKind.RECORD:
        return getattr(instance, f"{spec.name}_id")
    return getattr(instance, spec.name)


def _is_empty(value: Any) -> bool:
    return value is None or value == ""
