"""Write paths for imports: the command line today, the web pages later, call these.

    import_file(file, mapping=..., options=...)       one file with a column mapping
    import_preset("maven-crm", directory, options=...) a known set of files

Both return the engine's Report; a commit attempt (not a dry run) is also recorded as an ImportRun.
An import can create people, teams and records owned by anyone, so only those who may change
everything (administrators and directors; `by=None` is the command line) may run one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from quota.core.actor import acting_as
from quota.core.permissions import require
from quota.core.queue import enqueue_on_commit
from quota.imports import recovery
from quota.imports.engine import ImportOptions, PlannedStep, run_import
from quota.imports.mapping import FieldRule, MappingError, StepMapping
from quota.imports.models import (
    ImportJob,
    ImportJobPhase,
    ImportJobState,
    ImportProblem,
    ImportRun,
    ImportRunStatus,
    SavedMapping,
)
from quota.imports.presets import Preset, load
from quota.imports.problems import Problem, ProblemKind
from quota.imports.report import Report
from quota.imports.sources import FileInput, Source, SourceError, check_upload
from quota.imports.suggest import Proposal, best_step, compose, fitting_steps, guess, header_signature, propose
from quota.imports.targets import target_named
from quota.imports.values import is_blank, text

logger = logging.getLogger(__name__)


def import_file(
    file: FileInput,
    *,
    mapping: StepMapping,
    options: ImportOptions,
    file_name: str | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Report:
    name = file_name or (Path(file).name if isinstance(file, str | Path) else getattr(file, "name", "upload"))
    step = PlannedStep(
        name=mapping.into,
        file=file,
        mapping=mapping,
        file_name=name,
        sheet=sheet,
        encoding=encoding,
        delimiter=delimiter,
    )
    return _run_and_record([step], options=options, title=f"Import of {name} into {mapping.into}")


def import_preset(preset: str | Preset, directory: str | Path, *, options: ImportOptions) -> Report:
    """A folder holding the preset's files, or one file (an export): the steps its columns fit."""
    chosen = load(preset) if isinstance(preset, str) else preset
    if Path(directory).is_file():
        return _import_preset_file(chosen, Path(directory), options=options)
    folder = Path(directory)
    steps = [PlannedStep(name=s.name, file=folder / s.file, mapping=s.mapping, file_name=s.file) for s in chosen.steps]
    title = f"Import of {folder.name or folder} with the {chosen.name} preset"
    missing = [f for f in chosen.files() if not (folder / f).is_file()]
    if missing:
        report = Report(
            title=title, dry_run=options.dry_run, on_duplicate=options.on_duplicate, skip_bad_rows=options.skip_bad_rows
        )
        for name in missing:
            report.problems.add("files", Problem(ProblemKind.UNREADABLE_FILE, f"{folder / name} is missing", value=name))
        report.fail(f"{len(missing)} of the preset's files are missing from {folder}: {', '.join(missing)}")
        return report
    return _run_and_record(steps, options=options, title=title, setup=chosen.setup, preset=chosen.name)


def save_mapping(*, name: str, mapping: StepMapping, by: Any = None, header: list[str] | None = None) -> SavedMapping:
    defaults = {"into": mapping.into, "mapping": mapping.as_dict(), "created_by": by, "automatic": False}
    if header is not None:
        defaults["signature"] = header_signature(header)
    saved, _ = SavedMapping.objects.update_or_create(name=name, defaults=defaults)
    return saved


def remember_mapping(*, mapping: StepMapping, header: list[str], by: Any = None) -> SavedMapping:
    """Kept without a name, so the next file with the same columns starts from this mapping."""
    signature = header_signature(header)
    saved, _ = SavedMapping.objects.update_or_create(
        name=f"{mapping.into} ({signature[:16]})",
        defaults={
            "into": mapping.into,
            "mapping": mapping.as_dict(),
            "created_by": by,
            "signature": signature,
            "automatic": True,
        },
    )
    return saved


def remembered_mapping(*, into: str, header: list[str]) -> StepMapping | None:
    """The latest mapping (named or remembered) used for a file with these columns."""
    saved = SavedMapping.objects.filter(into=into, signature=header_signature(header)).order_by("-updated_at").first()
    if saved is None:
        return None
    try:
        return StepMapping.from_dict(saved.mapping, into=into)
    except MappingError:
        return None  # kept by an older version; the guesses take over


def saved_mapping(name: str) -> StepMapping | None:
    saved = SavedMapping.objects.filter(name=name).first()
    return StepMapping.from_dict(saved.mapping) if saved else None


def _import_preset_file(chosen: Preset, file: Path, *, options: ImportOptions) -> Report:
    title = f"Import of {file.name} with the {chosen.name} preset"
    try:
        header = Source(file).info.header
    except SourceError as exc:
        report = Report(
            title=title, dry_run=options.dry_run, on_duplicate=options.on_duplicate, skip_bad_rows=options.skip_bad_rows
        )
        report.fail(f"{file.name}: {exc}")
        return report
    steps = fitting_steps(chosen, header)
    if not steps:
        report = Report(
            title=title, dry_run=options.dry_run, on_duplicate=options.on_duplicate, skip_bad_rows=options.skip_bad_rows
        )
        report.fail(
            f"{file.name} is none of the {chosen.title} files: its columns match no step of the preset "
            f"(it reads {', '.join(chosen.files())})"
        )
        return report
    planned = [PlannedStep(name=s.name, file=file, mapping=s.mapping, file_name=file.name) for s in steps]
    return _run_and_record(planned, options=options, title=title, setup=chosen.setup, preset=chosen.name)


def _run_and_record(steps: list[PlannedStep], *, options: ImportOptions, title: str, **kwargs: Any) -> Report:
    return _run_and_keep(steps, options=options, title=title, **kwargs)[0]


def _run_and_keep(
    steps: list[PlannedStep], *, options: ImportOptions, title: str, **kwargs: Any
) -> tuple[Report, ImportRun | None]:
    require(options.by, "imports.run")
    preset = kwargs.pop("preset", "")
    started = timezone.now()
    with acting_as(options.by):  # a background job or the command line: the audit trail names the importer
        report = run_import(steps, options=options, title=title, **kwargs)
        run = None
        if not options.dry_run:
            run = _record(report, steps, options=options, preset=preset, started=started)
    return report, run


def _record(
    report: Report, steps: list[PlannedStep], *, options: ImportOptions, preset: str, started: dt.datetime
) -> ImportRun | None:
    """Keep the run; failing to keep it must not turn a committed import into a reported failure."""
    totals = report.totals()
    try:
        with transaction.atomic():
            return ImportRun.objects.create(
                title=_storable(report.title)[:200],
                preset=preset,
                by=options.by,
                status=report.status,
                reason=_storable(report.reason),
                on_duplicate=options.on_duplicate,
                skip_bad_rows=options.skip_bad_rows,
                started_at=started,
                finished_at=timezone.now(),
                files=_storable([s.file_name or "" for s in steps]),
                mappings=_storable([{"step": s.name, **s.mapping.as_dict()} for s in steps]),
                created=totals["created"],
                updated=totals["updated"],
                rejected=totals["rejected"],
                report=_storable(report.as_dict()),
            )
    except DatabaseError:
        logger.exception("The import ran (%s) but could not be recorded", report.status)
        return None


def _storable(value: Any) -> Any:
    """The report quotes the file, which may hold NUL characters; PostgreSQL text and JSON refuse them."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(v) for v in value]
    return value


# ---------------------------------------------------------------------- the web pages' imports
#
# upload (job_create) -> mapping (job_set_mapping) -> dry run -> commit, each run by job_queue and a
# background task (job_run) that reports progress through the cache, so the page can poll it while
# a worker (or, without Redis, the request itself) runs the engine.

SAMPLE_ROWS = 3
PROBLEMS_KEPT = 100_000  # every problem of a file this bad is more than anyone reads; the counts stay exact
PROGRESS_SECONDS = 24 * 3600
# The widest file the pages import (settings.IMPORTS_MAX_COLUMNS): its mapping form has a select per column.
DEFAULT_MAX_COLUMNS = 500
MAPPING_FORM_FIELDS = 8  # the mapping form's fields besides the columns' (duplicates, save as, a saved mapping, CSRF)


def max_columns() -> int:
    """IMPORTS_MAX_COLUMNS, and never more than a mapping form can post (DATA_UPLOAD_MAX_NUMBER_FIELDS)."""
    wanted = int(getattr(settings, "IMPORTS_MAX_COLUMNS", DEFAULT_MAX_COLUMNS))
    posted = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    return wanted if posted is None else min(wanted, posted - MAPPING_FORM_FIELDS)


class UploadError(ValueError):
    """The uploaded file cannot be imported; the message says why and what to do."""


def job_create(*, file: Any, holds: str, by: Any, encoding: str = "", delimiter: str = "") -> ImportJob:
    """Keep an uploaded file for the worker to read (`job_read`): the request only stores it.

    `holds` is "into:<records>" or "preset:<name>". Only what costs nothing is checked here: the
    kind of records, the encoding's name and, for a workbook, what its zip directory declares
    (`sources.check_upload`). A file refused here raises UploadError and nothing is kept.
    """
    require(by, "imports.run")
    kind, _sep, name = holds.partition(":")
    name_of_file = Path(getattr(file, "name", "") or "upload.csv").name
    if kind == "preset":
        load(name)  # PresetError for a preset that does not exist
    else:
        target_named(name)  # KeyError for a kind of record the engine does not import
    try:
        check_upload(getattr(file, "file", file), name=name_of_file, encoding=encoding or None)
    except SourceError as exc:
        raise UploadError(_cannot_read(name_of_file, exc)) from exc
    job = ImportJob(
        file_name=name_of_file[:255],
        into=name if kind != "preset" else "",  # a preset's records are known once the header is read
        preset=name if kind == "preset" else "",
        encoding=encoding,
        delimiter=delimiter,
        state=ImportJobState.WAITING,
        by=by,
    )
    _rewind(file)
    job.file.save(name_of_file, File(file, name=name_of_file), save=False)
    job.save()
    return job


def job_read(job_id: int) -> ImportJob | None:
    """Read a waiting upload through once (header, samples, row count) and propose a mapping: the task's body.

    Every limit on what a file may hold applies here (`sources`): a file that breaks one, or cannot be
    read at all, is deleted and the job keeps the reason (`job_read_failure`). Delivered twice, it runs once.
    """
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update()
            .filter(pk=job_id, phase=ImportJobPhase.UPLOADED, state=ImportJobState.WAITING)
            .first()
        )
        if job is None:
            return None
        job.state = ImportJobState.RUNNING
        job.save(update_fields=["state", "updated_at"])
    try:
        _read_upload(job)
    except UploadError as error:
        _refuse_upload(job, str(error))
    except Exception as exc:  # the page must not wait forever for a file the worker could not read
        logger.exception("Reading the upload of import job %s failed", job.pk)
        _refuse_upload(job, _cannot_read(job.file_name, f"{type(exc).__name__}: {str(exc)[:200]}"))
    return job


def _read_upload(job: ImportJob) -> None:
    with job.file.open("rb") as handle:
        try:
            source = Source(
                handle,
                name=job.file_name,
                encoding=job.encoding or None,
                delimiter=job.delimiter or None,
                max_columns=max_columns(),
            )
            header = source.info.header
            samples, rows = _read_through(source)
        except SourceError as exc:
            raise UploadError(_cannot_read(job.file_name, exc)) from exc
    columns = [c for c in header if c]
    if len(columns) < 2:
        raise UploadError(
            _(
                "Only one column was found (%(header)s). If the file separates its columns with another "
                "character, choose it under Delimiter; if it is not a table, export it as CSV or XLSX."
            )
            % {"header": (columns[0] if columns else "")[:120]}
        )
    if not rows:
        raise UploadError(_("%(file)s has a header but no rows to import.") % {"file": job.file_name})
    mapping = None
    if job.preset:
        chosen = load(job.preset)
        step = best_step(chosen, header)
        if step is None:
            raise UploadError(
                _("The columns of %(file)s are not those of a %(preset)s export this preset knows (%(files)s).")
                % {"file": job.file_name, "preset": chosen.title, "files": ", ".join(chosen.files())}
            )
        job.into, mapping = step.mapping.into, step.mapping
    else:
        mapping = remembered_mapping(into=job.into, header=header)
        if mapping is None:
            guessed = guess(header, target_named(job.into).fields())
            if guessed:
                mapping = StepMapping(into=job.into, fields={f: FieldRule(f, column=c) for c, f in guessed.items()})
    notes = [str(source.info.encoding_note)] if source.info.encoding_note else []
    job.header, job.samples, job.rows_total = header, _storable(samples), rows
    job.mapping = mapping.as_dict() if mapping else {}
    job.report, job.state = {"notes": notes}, ImportJobState.DONE
    job.save(update_fields=["into", "header", "samples", "rows_total", "mapping", "report", "state", "updated_at"])


def _refuse_upload(job: ImportJob, reason: str) -> None:
    """The file cannot be imported: it goes, the job keeps why (for the page that waits for it)."""
    job.file.delete(save=False)
    job.report = {"ok": False, "status": "unreadable", "reason": _storable(reason)}
    job.state = ImportJobState.DONE
    job.save(update_fields=["file", "report", "state", "updated_at"])


def _cannot_read(name: str, reason: object) -> str:
    return _("%(file)s cannot be read: %(reason)s") % {"file": name, "reason": reason}


def job_read_failure(job: ImportJob) -> str:
    """Why an uploaded file cannot be mapped ("" if it can, or is still being read)."""
    if job.phase != ImportJobPhase.UPLOADED or job.busy or job.report.get("ok") is not False:
        return ""
    return str(job.report.get("reason") or _("The file cannot be read."))


def job_read_notes(job: ImportJob) -> list[str]:
    """What reading the file noticed (a guessed encoding), for the mapping page."""
    return [str(note) for note in job.report.get("notes", [])] if job.phase == ImportJobPhase.UPLOADED else []


def job_discard(*, job: ImportJob, by: Any) -> None:
    """Forget an upload that could not be read (its refusal was shown on the upload form)."""
    require(by, "imports.run")
    job.file.delete(save=False)
    job.delete()


def _read_through(source: Source) -> tuple[list[dict[str, str]], int]:
    """The first rows as text, and how many rows there are (reading to the end finds a broken file now)."""
    samples: list[dict[str, str]] = []
    rows = 0
    for _number, row in source.rows():
        rows += 1
        if len(samples) < SAMPLE_ROWS:
            samples.append(
                {
                    column: "" if is_blank(value) else text(value)[:200]
                    for column, value in row.items()
                    if column in source.info.header
                }
            )
    return samples, rows


def _rewind(file: Any) -> None:
    if hasattr(file, "seek"):
        file.seek(0)


def job_base_mapping(job: ImportJob) -> StepMapping | None:
    if not job.mapping.get("fields"):
        return None
    try:
        return StepMapping.from_dict(job.mapping, into=job.into)
    except MappingError:
        return None


def job_proposal(job: ImportJob, *, saved: SavedMapping | None = None) -> Proposal:
    """The mapping page's choices: the job's mapping, or a saved mapping the person picked."""
    base = job_base_mapping(job)
    if saved is not None:
        with contextlib.suppress(MappingError):  # kept by an older version: the job's own mapping stays
            base = StepMapping.from_dict(saved.mapping, into=job.into)
    return propose(base, job.header)


def job_set_mapping(
    *,
    job: ImportJob,
    assignments: dict[str, str],
    on_duplicate: str,
    by: Any,
    create_missing: bool = False,
    blank_as_group: bool = False,
    save_as: str = "",
    saved: SavedMapping | None = None,
) -> StepMapping:
    require(by, "imports.run")
    if create_missing:
        require(by, "configuration.change")  # lead sources, loss reasons and custom fields are the configuration
    if job.busy:
        raise ValidationError(_("This import is running; wait until it has finished."))
    base = job_base_mapping(job)
    if saved is not None:
        base = StepMapping.from_dict(saved.mapping, into=job.into)
    mapping = compose(base, into=job.into, header=job.header, assignments=assignments)
    if not mapping.fields:
        raise ValidationError(_("Map at least one column to a field."))
    with transaction.atomic():
        job.mapping, job.on_duplicate = mapping.as_dict(), on_duplicate
        job.create_missing, job.blank_as_group = create_missing, blank_as_group
        job.phase, job.report, job.problems_total, job.run = ImportJobPhase.UPLOADED, {}, 0, None
        job.save(
            update_fields=[
                *("mapping", "on_duplicate", "create_missing", "blank_as_group"),
                *("phase", "report", "problems_total", "run", "updated_at"),
            ]
        )
        job.problems.all().delete()
        if not job.preset:  # a preset is its own memory
            remember_mapping(mapping=mapping, header=job.header, by=by)
        if save_as:
            save_mapping(name=save_as, mapping=mapping, by=by, header=job.header)
    return mapping


def job_queue(*, job: ImportJob, phase: str, by: Any) -> ImportJob:
    """Mark the job waiting for its dry run or commit; the caller hands it to the task queue."""
    require(by, "imports.run")
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.busy:
            raise ValidationError(_("This import is already running."))
        if not job.mapping.get("fields"):
            raise ValidationError(_("Map the file's columns first."))
        if phase == ImportJobPhase.COMMIT:
            if job.phase == ImportJobPhase.COMMIT and job.report.get("written"):
                raise ValidationError(_("This file has been imported already."))
            if job.phase != ImportJobPhase.CHECK or not job.report.get("ok"):
                raise ValidationError(_("Run a dry run without errors before importing."))
        job.phase, job.state = phase, ImportJobState.WAITING
        job.save(update_fields=["phase", "state", "updated_at"])
    cache.set(_progress_key(job), 0, PROGRESS_SECONDS)
    return job


def job_restart(*, job: ImportJob, by: Any) -> ImportJob:
    """Queue again a dry run or commit that was stopped because its worker died or never came (see recovery)."""
    from quota.imports.tasks import run_import_job  # tasks call the services, not the other way round

    require(by, "imports.run")
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if not job.restartable:
            raise ValidationError(_("Only an import that was stopped because its worker was lost can be started again."))
        job.state = ImportJobState.WAITING
        job.save(update_fields=["state", "updated_at"])
        enqueue_on_commit(run_import_job, job.pk)
    cache.set(_progress_key(job), 0, PROGRESS_SECONDS)
    return job


def job_run(job_id: int) -> ImportJob | None:
    """Run a queued job's dry run or commit (the task's body). Delivered twice, it runs once."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id, state=ImportJobState.WAITING).first()
        if job is None:
            return None
        job.state, job.stopped_reason = ImportJobState.RUNNING, ""
        job.worker, job.run_token, job.heartbeat_at = recovery.worker_identity(), recovery.new_run_token(), timezone.now()
        job.save(update_fields=["state", "stopped_reason", "worker", "run_token", "heartbeat_at", "updated_at"])
    heartbeat = recovery.Heartbeat(job.pk, job.run_token, started=job.heartbeat_at)
    kept: list[ImportProblem] = []
    counted = [0]

    def keep(step: str, problem: Problem) -> None:
        counted[0] += 1
        if len(kept) < PROBLEMS_KEPT:
            kept.append(_problem_row(job, step, problem))

    def progress(rows: int) -> None:
        cache.set(_progress_key(job), rows, PROGRESS_SECONDS)
        heartbeat()

    options = ImportOptions(
        dry_run=job.phase == ImportJobPhase.CHECK,
        on_duplicate=job.on_duplicate,
        create_missing=job.create_missing,
        blank_as_group=job.blank_as_group,
        by=job.by,
        progress=progress,
        on_problem=keep,
    )
    run = None
    try:
        report, run = _run_job(job, options)
    except recovery.JobTakenOver:
        logger.warning("Import job %s was stopped or started again elsewhere; this run stops without writing", job.pk)
        return None
    except Exception as exc:  # the page must not wait forever for a job that died
        logger.exception("Import job %s stopped", job.pk)
        report = Report(title=job.file_name, dry_run=options.dry_run, on_duplicate=job.on_duplicate, skip_bad_rows=False)
        report.fail(f"the import stopped unexpectedly ({type(exc).__name__}: {str(exc)[:200]}); nothing was imported")
    finally:
        heartbeat.close()
    with transaction.atomic():
        # Still this run's? Stopped as dead meanwhile: its real result replaces the guess. Started again: not ours.
        stored = ImportJob.objects.select_for_update().filter(pk=job.pk, run_token=job.run_token).first()
        if stored is None:
            logger.warning("Import job %s was started again while this run finished; its result is not kept", job.pk)
            return None
        if stored.stopped_reason and stored.run_id and stored.run_id != getattr(run, "pk", None):
            ImportRun.objects.filter(pk=stored.run_id, status=ImportRunStatus.FAILED).delete()  # the guess, in the history
        job.stopped_reason = ""
        job.problems.all().delete()
        ImportProblem.objects.bulk_create(kept, batch_size=1000)
        job.report, job.problems_total, job.run, job.state = _storable(report.as_dict()), counted[0], run, ImportJobState.DONE
        job.save(update_fields=["report", "problems_total", "run", "state", "stopped_reason", "updated_at"])
    return job


def _run_job(job: ImportJob, options: ImportOptions) -> tuple[Report, ImportRun | None]:
    mapping = StepMapping.from_dict(job.mapping, into=job.into)
    setup = load(job.preset).setup if job.preset else None
    with job.file.open("rb") as handle:
        step = PlannedStep(
            name=job.into,
            file=handle,
            mapping=mapping,
            file_name=job.file_name,
            encoding=job.encoding or None,
            delimiter=job.delimiter or None,
        )
        title = f"Import of {job.file_name} into {job.into}" + (f" with the {job.preset} preset" if job.preset else "")
        return _run_and_keep([step], options=options, title=title, setup=setup, preset=job.preset)


def _problem_row(job: ImportJob, step: str, problem: Problem) -> ImportProblem:
    return ImportProblem(
        job=job,
        step=_storable(step)[:100],
        severity=problem.severity.value,
        kind=problem.kind.value,
        row=problem.row,
        column=_storable(problem.column or "")[:255],
        value=_storable(problem.value or ""),
        message=_storable(problem.message),
    )


def _progress_key(job: ImportJob) -> str:
    return f"imports:job:{job.pk}:rows"


def job_progress(job: ImportJob) -> tuple[int, int]:
    """(rows read, rows in the file) of the job's current run."""
    total = job.rows_total
    if not job.busy:
        return total, total
    return min(int(cache.get(_progress_key(job)) or 0), total), total
