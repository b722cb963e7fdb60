"""Where the mapping page's first proposal comes from: a preset's step that fits the file, a mapping
remembered for files with the same columns, or the columns' names matched to the fields' names.

The page shows one field per column; a mapping can hold more (a column read by two fields, a
template, a constant). `compose` keeps those extras as long as the person keeps the column they rest
on, so a preset's value translations survive the form.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, replace

from quota.imports.mapping import FieldRule, StepMapping
from quota.imports.presets import Preset, PresetStep
from quota.imports.targets import TargetField

# "Deal - Title", "Organization - Name": the export's record type before the field's name.
RECORD_PREFIX = re.compile(r"^[^-]{2,40} - ")
GUESS_CUTOFF = 0.86
MIN_FIT = 0.5  # a file with fewer of a preset step's columns is not that export


def header_signature(header: list[str]) -> str:
    """The same for any file with the same column names, in any order and letter case."""
    names = sorted({column.strip().casefold() for column in header if column.strip()})
    return hashlib.sha256("\x1f".join(names).encode()).hexdigest()


def fitting_steps(preset: Preset, header: list[str]) -> list[PresetStep]:
    """The preset's steps this file is for, in the preset's order: those whose every column is in
    the file (one file can feed several), else the one it fits best (`best_step`)."""
    present = set(header)
    whole = [step for step in preset.steps if step.mapping.columns() and step.mapping.columns() <= present]
    if whole:
        return whole
    best = best_step(preset, header)
    return [best] if best else []


def best_step(preset: Preset, header: list[str]) -> PresetStep | None:
    """The step reading most of the file's columns, if the file has at least half of the step's.

    An export can leave out columns (a person picks what to export): the step is then trimmed to the
    columns the file has, and a required field left without one is reported by the dry run."""
    present = set(header)

    def fit(step: PresetStep) -> tuple[float, int]:
        columns = step.mapping.columns()
        return (len(columns & present) / len(columns) if columns else 0.0, len(columns & present))

    ranked = sorted(preset.steps, key=fit, reverse=True)
    if not ranked or fit(ranked[0])[0] < MIN_FIT:
        return None
    step = ranked[0]
    return PresetStep(name=step.name, file=step.file, mapping=trimmed(step.mapping, header))


def trimmed(mapping: StepMapping, header: list[str]) -> StepMapping:
    """The mapping without the rules that read a column the file does not have."""
    present = set(header)
    fields = {name: rule for name, rule in mapping.fields.items() if rule.columns() <= present}
    return replace(
        mapping,
        fields=fields,
        fixes={column: fixes for column, fixes in mapping.fixes.items() if column in present},
        warn_if_blank=[name for name in mapping.warn_if_blank if name in fields],
    )


def _normal(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", text.casefold())


def guess(header: list[str], fields: dict[str, TargetField]) -> dict[str, str]:
    """{column: field} for the columns whose name is a field's name or label (closely enough)."""
    names: dict[str, str] = {}
    for name, spec in fields.items():
        for spelling in (name, spec.label, name.removeprefix("custom.")):
            names.setdefault(_normal(spelling), name)
    chosen: dict[str, str] = {}
    taken: set[str] = set()
    for exact in (True, False):
        for column in header:
            if not column or column in chosen:
                continue
            wanted = _normal(RECORD_PREFIX.sub("", column)) or _normal(column)
            if exact:
                match = names.get(wanted) or names.get(_normal(column))
            else:
                close = difflib.get_close_matches(wanted, list(names), n=1, cutoff=GUESS_CUTOFF)
                match = names[close[0]] if close else None
            if match and match not in taken:
                chosen[column] = match
                taken.add(match)
    return chosen


@dataclass
class Proposal:
    """What the mapping page shows: a field per column, and the rules it cannot show."""

    assignments: dict[str, str]  # column -> field ("" = ignored)
    extras: dict[str, FieldRule]  # field -> rule kept from the base mapping as it is


def propose(base: StepMapping | None, header: list[str]) -> Proposal:
    assignments = dict.fromkeys(header, "")
    extras: dict[str, FieldRule] = {}
    if base is None:
        return Proposal(assignments, extras)
    for name, rule in base.fields.items():
        if not rule.columns() <= set(header):
            continue  # a saved mapping made for a file with other columns
        if rule.column and rule.column in assignments and not assignments[rule.column] and not _is_extra(rule):
            assignments[rule.column] = name
        else:
            extras[name] = rule
    return Proposal(assignments, extras)


def _is_extra(rule: FieldRule) -> bool:
    """A rule the form's plain column -> field choice would lose (it is kept whole instead)."""
    return bool(rule.template or rule.has_value) or rule.column is None


def compose(base: StepMapping | None, *, into: str, header: list[str], assignments: dict[str, str]) -> StepMapping:
    """The mapping the form's choices make, keeping the base's rules (value translations, date
    formats, templates, constants) wherever the person left the column as proposed."""
    proposal = propose(base, header)
    changed = {column for column, name in assignments.items() if proposal.assignments.get(column, "") != name}
    fields: dict[str, FieldRule] = {}
    for column, name in assignments.items():
        if not name:
            continue
        kept = base.fields.get(name) if base else None
        fields[name] = (
            kept if kept is not None and kept.column == column and not _is_extra(kept) else FieldRule(name, column=column)
        )
    for name, rule in proposal.extras.items():
        if name not in fields and not (rule.columns() & changed):
            fields[name] = rule
    if base is None:
        return StepMapping(into=into, fields=fields)
    return StepMapping(
        into=into,
        fields=fields,
        fixes={column: fixes for column, fixes in base.fixes.items() if column in header},
        match=base.match,
        currency=base.currency,
        warn_if_blank=[name for name in base.warn_if_blank if name in fields],
        report_unreferenced=base.report_unreferenced,
        amount_known=base.amount_known,
    )
