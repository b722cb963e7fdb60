"""The result of an import: counts per step, problems grouped by kind, and a one-line status.

The same object is rendered as text for the command line, as JSON for scripts and stored on an
ImportRun for the web pages.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from quota.imports.problems import TITLES, ProblemGroup, ProblemLog, Severity
from quota.imports.targets import Outcome

OUTCOMES = [Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED, Outcome.SKIPPED, Outcome.REJECTED]


class Status:
    RUNNING = "running"
    COMMITTED = "committed"
    CHECKED = "checked"  # a dry run that found nothing stopping a commit
    FAILED = "failed"


@dataclass
class StepReport:
    name: str
    file: str
    into: str
    encoding: str = ""
    delimiter: str = ""
    rows: int = 0
    counts: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "file": self.file,
            "into": self.into,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "rows": self.rows,
            **{outcome.value: self.counts[outcome] for outcome in OUTCOMES},
        }


@dataclass
class Report:
    title: str
    dry_run: bool
    on_duplicate: str
    skip_bad_rows: bool
    steps: list[StepReport] = field(default_factory=list)
    setup: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)  # what --create-missing made (or, in a dry run, would make)
    problems: ProblemLog = field(default_factory=ProblemLog)
    status: str = Status.RUNNING
    reason: str = ""
    seconds: float = 0.0
    rollups: list[str] = field(default_factory=list)  # KPI sources whose rollups were rebuilt after the commit
    rollup_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status in (Status.COMMITTED, Status.CHECKED)

    def totals(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for step in self.steps:
            total.update(step.counts)
        return total

    def step(self, name: str) -> StepReport:
        return next(s for s in self.steps if s.name == name)

    def fail(self, reason: str) -> None:
        self.status, self.reason = Status.FAILED, reason

    def as_dict(self) -> dict[str, Any]:
        totals = self.totals()
        return {
            "title": self.title,
            "status": self.status,
            "ok": self.ok,
            "written": self.status == Status.COMMITTED,  # else the counts say what a commit would do
            "reason": self.reason,
            "dry_run": self.dry_run,
            "on_duplicate": self.on_duplicate,
            "skip_bad_rows": self.skip_bad_rows,
            "seconds": round(self.seconds, 2),
            "rollups": {"rebuilt": list(self.rollups), "seconds": round(self.rollup_seconds, 2)},
            "setup": list(self.setup),
            "created": list(self.created),
            "totals": {outcome.value: totals[outcome] for outcome in OUTCOMES},
            "steps": [s.as_dict() for s in self.steps],
            "problems": [g.as_dict() for g in self.problems.ordered()],
        }


def render_text(report: Report, *, examples: int = 3) -> str:
    lines = [f"{report.title}: {report.status}{' (dry run)' if report.dry_run else ''} in {report.seconds:.1f} s"]
    if report.reason:
        lines.append(f"  {report.reason}")
    set_up = "set up" if report.status == Status.COMMITTED else "would set up"
    lines.extend(f"  {set_up}: {item}" for item in report.setup)
    create = "created" if report.status == Status.COMMITTED else "would create"
    lines.extend(f"  {create}: {item}" for item in report.created)
    if report.status != Status.COMMITTED:
        lines.append("  (the counts say what a commit would do; nothing was written)")
    lines.append("")
    lines.extend(_steps_table(report))
    if report.totals()[Outcome.SKIPPED]:
        lines.append("(skipped: the record is already in the database or earlier in the file; it was left as it is)")
    for severity in (Severity.ERROR, Severity.WARNING, Severity.NOTICE):
        groups = [g for g in report.problems.ordered() if g.severity == severity]
        if not groups:
            continue
        lines.append("")
        lines.append(f"{severity.value.upper()}S ({sum(g.count for g in groups):,})")
        for group in groups:
            lines.extend(_group_lines(group, examples))
    return "\n".join(lines) + "\n"


def _steps_table(report: Report) -> list[str]:
    header = ["step", "file", "into", "rows", *[o.value for o in OUTCOMES]]
    rows = [[s.name, s.file, s.into, f"{s.rows:,}", *[f"{s.counts[o]:,}" for o in OUTCOMES]] for s in report.steps]
    totals = report.totals()
    rows.append(["total", "", "", f"{sum(s.rows for s in report.steps):,}", *[f"{totals[o]:,}" for o in OUTCOMES]])
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return [line(header), *[line(r) for r in rows]]


def _group_lines(group: ProblemGroup, examples: int) -> list[str]:
    where = f"{group.step}" + (f", column {group.column}" if group.column else "")
    count = f"{group.rows:,} row{'s' if group.rows != 1 else ''}" if group.examples and group.examples[0].row else ""
    lines = [f"- {TITLES[group.kind]} [{group.kind.value}] ({where}){': ' + count if count else ''}"]
    if any(group.values) and (len(group.values) > 1 or group.count > 1):
        shown = ", ".join(f"{v or '(blank)'} ({n:,})" for v, n in group.values.most_common(8))
        more = f", ... {len(group.values) - 8} more" if len(group.values) > 8 else ""
        lines.append(f"    values: {shown}{more}")
    for problem in group.examples[:examples]:
        at = f"row {problem.row}: " if problem.row else ""
        lines.append(f"    {at}{problem.message}")
    return lines
