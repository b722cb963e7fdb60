"""Shared by the import tests: where the Maven files are, and how to read a report's problem groups."""

from pathlib import Path

from quota.imports.mapping import StepMapping
from quota.imports.problems import ProblemGroup
from quota.imports.report import Report

# /work/main/quota/imports/tests -> /work/shared/data/maven_crm
MAVEN_DIR = Path(__file__).resolve().parents[4] / "shared" / "data" / "maven_crm"

# A small deals file's columns and their mapping, shared by the engine's tests.
DEAL_COLUMNS = ["id", "title", "owner", "company", "stage", "status", "created", "closed", "amount", "reason"]
DEAL_MAPPING = StepMapping.from_dict(
    {
        "into": "deals",
        "fields": {
            "external_id": "id",
            "title": "title",
            "owner": "owner",
            "company": "company",
            "stage": "stage",
            "status": "status",
            "created_at": "created",
            "closed_at": "closed",
            "amount": "amount",
            "loss_reason": "reason",
        },
    }
)


def groups(report: Report, kind: str, *, step: str | None = None, column: str | None = None) -> list[ProblemGroup]:
    return [
        g
        for g in report.problems.groups.values()
        if g.kind == kind and (step is None or g.step == step) and (column is None or g.column == column)
    ]


def rows_with(report: Report, kind: str, *, step: str | None = None, column: str | None = None) -> int:
    return sum(g.rows for g in groups(report, kind, step=step, column=column))
