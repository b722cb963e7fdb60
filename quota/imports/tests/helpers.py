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


def xlsx_bomb(unpacked: int, *, declared: int | None = None) -> bytes:
    """A small workbook whose first sheet unpacks to about `unpacked` bytes of XML: one cell of repeated letters.

    Written in chunks, so building it costs little memory (64 MB of letters deflate to about 64 KB).
    `declared`: the size the zip's directory and local header claim for that sheet instead (a lying header).
    """
    import io
    import struct
    import zipfile

    from openpyxl import Workbook

    plain = io.BytesIO()
    book = Workbook()
    book.active.append(["Company", "Country"])
    book.save(plain)
    sheet = "xl/worksheets/sheet1.xml"
    out = io.BytesIO()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for part in source.infolist():
            if part.filename != sheet:
                bomb.writestr(part, source.read(part.filename))
        with bomb.open(sheet, "w") as handle:
            ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
            handle.write(f'<worksheet xmlns="{ns}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'.encode())
            chunk = b"A" * (1024 * 1024)
            for _ in range(max(1, unpacked // len(chunk))):
                handle.write(chunk)
            handle.write(b"</t></is></c></row></sheetData></worksheet>")
    data = bytearray(out.getvalue())
    if declared is not None:
        name = sheet.encode()
        central = data.find(b"PK\x01\x02")  # the first central directory entry
        while central != -1 and data[central + 46 : central + 46 + len(name)] != name:
            central = data.find(b"PK\x01\x02", central + 4)
        struct.pack_into("<I", data, central + 24, declared)  # uncompressed size in the central directory
        local = struct.unpack_from("<I", data, central + 42)[0]
        struct.pack_into("<I", data, local + 22, declared)  # and in the part's local header
    return bytes(data)
