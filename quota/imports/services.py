"""Write paths for imports: the command line today, the web pages later, call these.

    import_file(file, mapping=..., options=...)       one file with a column mapping
    import_preset("maven-crm", directory, options=...) a known set of files

Both return the engine's Report; a commit attempt (not a dry run) is also recorded as an ImportRun.
An import can create people, teams and records owned by anyone, so only those who may change
everything (administrators and directors; `by=None` is the command line) may run one.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, transaction
from django.utils import timezone

from quota.core.visibility import CHANGE_ALL_ROLES
from quota.imports.engine import ImportOptions, PlannedStep, run_import
from quota.imports.mapping import StepMapping
from quota.imports.models import ImportRun, SavedMapping
from quota.imports.presets import Preset, load
from quota.imports.problems import Problem, ProblemKind
from quota.imports.report import Report
from quota.imports.sources import FileInput

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
    chosen = load(preset) if isinstance(preset, str) else preset
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


def save_mapping(*, name: str, mapping: StepMapping, by: Any = None) -> SavedMapping:
    saved, _ = SavedMapping.objects.update_or_create(
        name=name, defaults={"into": mapping.into, "mapping": mapping.as_dict(), "created_by": by}
    )
    return saved


def saved_mapping(name: str) -> StepMapping | None:
    saved = SavedMapping.objects.filter(name=name).first()
    return StepMapping.from_dict(saved.mapping) if saved else None


def require_importer(by: Any) -> None:
    if by is not None and not (by.is_active and (by.is_superuser or by.role in CHANGE_ALL_ROLES)):
        raise PermissionDenied("Only administrators and directors may import files.")


def _run_and_record(steps: list[PlannedStep], *, options: ImportOptions, title: str, **kwargs: Any) -> Report:
    require_importer(options.by)
    preset = kwargs.pop("preset", "")
    started = timezone.now()
    report = run_import(steps, options=options, title=title, **kwargs)
    if not options.dry_run:
        _record(report, steps, options=options, preset=preset, started=started)
    return report


def _record(report: Report, steps: list[PlannedStep], *, options: ImportOptions, preset: str, started: dt.datetime) -> None:
    """Keep the run; failing to keep it must not turn a committed import into a reported failure."""
    totals = report.totals()
    try:
        with transaction.atomic():
            ImportRun.objects.create(
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


def _storable(value: Any) -> Any:
    """The report quotes the file, which may hold NUL characters; PostgreSQL text and JSON refuse them."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(v) for v in value]
    return value
