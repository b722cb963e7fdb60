"""What can be wrong with an import, and a log that groups problems without growing with the file.

Every problem names the row (spreadsheet numbering: the header is row 1), the column, the value and
why. The log keeps counts for all of them but only the first few examples and distinct values of
each group, so a million bad rows cost the same memory as ten.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

EXAMPLES_KEPT = 5
DISTINCT_VALUES_KEPT = 20


class Severity(StrEnum):
    ERROR = "error"  # the row (or file) cannot be imported as it is
    WARNING = "warning"  # imported, but something was fixed, defaulted or looks wrong
    NOTICE = "notice"  # imported as expected; said so the user knows


class ProblemKind(StrEnum):
    # file-level: the import stops before any row is processed
    UNREADABLE_FILE = "unreadable_file"
    MISSING_COLUMN = "missing_column"
    UNKNOWN_FIELD = "unknown_field"
    INVALID_MAPPING = "invalid_mapping"
    UNMAPPED_REQUIRED_FIELD = "unmapped_required_field"
    NO_EXCHANGE_RATE = "no_exchange_rate"
    # row-level errors
    REQUIRED_BLANK = "required_blank"
    INVALID_VALUE = "invalid_value"
    NOT_FOUND = "not_found"
    AMBIGUOUS = "ambiguous"
    INVALID_RECORD = "invalid_record"
    REFUSED_BY_DATABASE = "refused_by_database"
    # warnings
    ENCODING_FALLBACK = "encoding_fallback"
    VALUE_FIXED = "value_fixed"
    DEFAULT_USED = "default_used"
    BLANK_REFERENCE = "blank_reference"
    UNREFERENCED = "unreferenced"
    CONFLICTING_DUPLICATE = "conflicting_duplicate"
    IGNORED_VALUE = "ignored_value"
    # notices
    BLANK_UNTIL_CLOSED = "blank_until_closed"
    ROUNDED = "rounded"
    CONVERTED_CURRENCY = "converted_currency"
    BLANK_GROUPED = "blank_grouped"
    IGNORED_COLUMNS = "ignored_columns"
    NO_DUPLICATE_CHECK = "no_duplicate_check"


SEVERITY: dict[ProblemKind, Severity] = {
    **dict.fromkeys(
        (
            ProblemKind.UNREADABLE_FILE,
            ProblemKind.MISSING_COLUMN,
            ProblemKind.UNKNOWN_FIELD,
            ProblemKind.INVALID_MAPPING,
            ProblemKind.UNMAPPED_REQUIRED_FIELD,
            ProblemKind.NO_EXCHANGE_RATE,
            ProblemKind.REQUIRED_BLANK,
            ProblemKind.INVALID_VALUE,
            ProblemKind.NOT_FOUND,
            ProblemKind.AMBIGUOUS,
            ProblemKind.INVALID_RECORD,
            ProblemKind.REFUSED_BY_DATABASE,
        ),
        Severity.ERROR,
    ),
    **dict.fromkeys(
        (
            ProblemKind.ENCODING_FALLBACK,
            ProblemKind.VALUE_FIXED,
            ProblemKind.DEFAULT_USED,
            ProblemKind.BLANK_REFERENCE,
            ProblemKind.UNREFERENCED,
            ProblemKind.CONFLICTING_DUPLICATE,
            ProblemKind.IGNORED_VALUE,
        ),
        Severity.WARNING,
    ),
    **dict.fromkeys(
        (
            ProblemKind.BLANK_UNTIL_CLOSED,
            ProblemKind.ROUNDED,
            ProblemKind.CONVERTED_CURRENCY,
            ProblemKind.BLANK_GROUPED,
            ProblemKind.IGNORED_COLUMNS,
            ProblemKind.NO_DUPLICATE_CHECK,
        ),
        Severity.NOTICE,
    ),
}

# One line per kind, shown as the group's heading.
TITLES: dict[ProblemKind, str] = {
    ProblemKind.UNREADABLE_FILE: "The file cannot be read",
    ProblemKind.MISSING_COLUMN: "A mapped column is not in the file",
    ProblemKind.UNKNOWN_FIELD: "The mapping names a field the record does not have",
    ProblemKind.INVALID_MAPPING: "The mapping is not usable",
    ProblemKind.UNMAPPED_REQUIRED_FIELD: "A required field has no column",
    ProblemKind.NO_EXCHANGE_RATE: "No exchange rate for the file's currency",
    ProblemKind.REQUIRED_BLANK: "Required value is blank",
    ProblemKind.INVALID_VALUE: "Value cannot be read",
    ProblemKind.NOT_FOUND: "Refers to a record that does not exist",
    ProblemKind.AMBIGUOUS: "Refers to more than one record",
    ProblemKind.INVALID_RECORD: "Record fails validation",
    ProblemKind.REFUSED_BY_DATABASE: "Database refused the record",
    ProblemKind.ENCODING_FALLBACK: "File is not UTF-8",
    ProblemKind.VALUE_FIXED: "Known misspelling fixed",
    ProblemKind.DEFAULT_USED: "Blank value replaced by a default",
    ProblemKind.BLANK_REFERENCE: "Blank where a value is expected (imported without it)",
    ProblemKind.UNREFERENCED: "Imported, but nothing in the later files refers to it",
    ProblemKind.CONFLICTING_DUPLICATE: "Same record twice in the file with different values",
    ProblemKind.IGNORED_VALUE: "Value ignored",
    ProblemKind.BLANK_UNTIL_CLOSED: "Blank because the deal is still open",
    ProblemKind.ROUNDED: "Number rounded to the field's precision",
    ProblemKind.CONVERTED_CURRENCY: "Amount converted to the company currency",
    ProblemKind.BLANK_GROUPED: "Blank value counted in the (blank) group, as asked",
    ProblemKind.IGNORED_COLUMNS: "Columns not mapped to any field (not imported)",
    ProblemKind.NO_DUPLICATE_CHECK: "No column identifies duplicates: importing again creates the records again",
}


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    message: str
    row: int | None = None
    column: str | None = None
    value: str | None = None

    @property
    def severity(self) -> Severity:
        return SEVERITY[self.kind]


@dataclass
class ProblemGroup:
    """All problems of one kind in one column of one step."""

    step: str
    kind: ProblemKind
    column: str | None
    count: int = 0
    rows: int = 0  # distinct rows (a row counts once even if it has the problem twice)
    examples: list[Problem] = field(default_factory=list)
    values: Counter[str] = field(default_factory=Counter)
    _last_row: int | None = None

    @property
    def severity(self) -> Severity:
        return SEVERITY[self.kind]

    def add(self, problem: Problem) -> None:
        self.count += 1
        if problem.row is None or problem.row != self._last_row:
            self.rows += 1
            self._last_row = problem.row
        if len(self.examples) < EXAMPLES_KEPT:
            self.examples.append(problem)
        if problem.value is not None and (problem.value in self.values or len(self.values) < DISTINCT_VALUES_KEPT):
            self.values[problem.value] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "kind": self.kind.value,
            "severity": self.severity.value,
            "title": TITLES[self.kind],
            "column": self.column,
            "count": self.count,
            "rows": self.rows,
            "values": dict(self.values.most_common()),
            "examples": [{"row": p.row, "column": p.column, "value": p.value, "message": p.message} for p in self.examples],
        }


class ProblemLog:
    """Problems of a whole import run, grouped by step, kind and column."""

    def __init__(self) -> None:
        self.groups: dict[tuple[str, ProblemKind, str | None], ProblemGroup] = {}
        # Told every problem as it is added (the web pages keep them all, to page through).
        self.listener: Callable[[str, Problem], None] | None = None

    def add(self, step: str, problem: Problem) -> None:
        if self.listener is not None:
            self.listener(step, problem)
        key = (step, problem.kind, problem.column)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = ProblemGroup(step=step, kind=problem.kind, column=problem.column)
        group.add(problem)

    def count(self, severity: Severity) -> int:
        return sum(g.count for g in self.groups.values() if g.severity == severity)

    def error_rows(self) -> int:
        return sum(g.rows for g in self.groups.values() if g.severity == Severity.ERROR)

    def ordered(self) -> list[ProblemGroup]:
        rank = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.NOTICE: 2}
        return sorted(self.groups.values(), key=lambda g: (rank[g.severity], -g.count))
