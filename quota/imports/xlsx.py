"""Opening an XLSX workbook without letting it unpack without end (a zip bomb).

An XLSX file is a zip of XML parts, and a 4 MB upload can unpack to gigabytes. Two guards, both
before and while openpyxl reads:

1. the sizes the zip's directory declares are added up first: a workbook that says it unpacks to
   more than the limit is refused before openpyxl opens it (`check_archive`; the upload page runs
   this check too, it only reads the directory);
2. the directory may lie, so every part openpyxl opens is read through a counter: reading stops with
   the same refusal as soon as the bytes really unpacked pass the limit.

Parts openpyxl holds whole in memory (shared strings, styles, the workbook) get a quarter of the
limit each; worksheets are streamed and share the rest.
"""

from __future__ import annotations

import zipfile
from typing import IO, Any

from django.conf import settings
from django.template.defaultfilters import filesizeformat

# An import reads at most this much unpacked XML from one workbook (settings.IMPORTS_MAX_UNPACKED_BYTES).
DEFAULT_MAX_UNPACKED_BYTES = 1024**3
MAX_PARTS = 10_000  # files inside the zip; a workbook has a few dozen
READ_CHUNK = 256 * 1024
WORKSHEETS = "xl/worksheets/"


class WorkbookTooLarge(ValueError):
    """The workbook unpacks to more than an import reads; the message says so in one line."""


def max_unpacked_bytes() -> int:
    return int(getattr(settings, "IMPORTS_MAX_UNPACKED_BYTES", DEFAULT_MAX_UNPACKED_BYTES))


def part_limit(name: str, limit: int) -> int:
    """A worksheet may take the whole limit (it is streamed); a part held in memory a quarter of it."""
    return limit if name.startswith(WORKSHEETS) else limit // 4


def too_large(limit: int, *, declared: int | None = None) -> WorkbookTooLarge:
    """The refusal: `declared` is the size the zip's directory gives, None when the unpacked bytes were counted."""
    size = f"says it unpacks to {filesizeformat(declared)}, more than" if declared is not None else "unpacks to more than"
    return WorkbookTooLarge(
        f"the workbook {size} the {filesizeformat(limit)} an import reads (a damaged file, or a zip bomb?); "
        "save the sheet again, or as CSV"
    )


def check_archive(archive: zipfile.ZipFile, limit: int) -> None:
    """Refuse a workbook whose zip directory declares too many parts or too many unpacked bytes."""
    parts = archive.infolist()
    if len(parts) > MAX_PARTS:
        raise WorkbookTooLarge(f"the workbook holds {len(parts):,} files, more than a workbook has (a damaged file?)")
    total = 0
    for part in parts:
        total += part.file_size
        if part.file_size > part_limit(part.filename, limit):
            raise too_large(part_limit(part.filename, limit), declared=part.file_size)
    if total > limit:
        raise too_large(limit, declared=total)


class BoundedZipFile(zipfile.ZipFile):
    """A zip whose parts can only be read through a counter of the bytes unpacked (for all parts together)."""

    def __init__(self, file: Any, *, limit: int) -> None:
        super().__init__(file)
        self.limit = limit
        self.unpacked = 0
        check_archive(self, limit)

    def open(self, name: Any, mode: Any = "r", pwd: bytes | None = None, *, force_zip64: bool = False) -> Any:
        handle = super().open(name, mode, pwd, force_zip64=force_zip64)
        if mode != "r":
            return handle
        part = name.filename if isinstance(name, zipfile.ZipInfo) else str(name)
        return _CountedPart(handle, self, part_limit(part, self.limit))

    def count(self, size: int) -> None:
        self.unpacked += size
        if self.unpacked > self.limit:
            raise too_large(self.limit)


class _CountedPart:
    """One part of a BoundedZipFile, read in chunks so a part never unpacks in one piece past its limit."""

    def __init__(self, handle: IO[bytes], archive: BoundedZipFile, limit: int) -> None:
        self.handle, self.archive, self.limit, self.read_bytes = handle, archive, limit, 0

    def read(self, size: int | None = -1) -> bytes:
        if size is not None and size >= 0:
            return self._counted(self.handle.read(size))
        chunks = []
        while chunk := self._counted(self.handle.read(READ_CHUNK)):
            chunks.append(chunk)
        return b"".join(chunks)

    def _counted(self, data: bytes) -> bytes:
        self.read_bytes += len(data)
        if self.read_bytes > self.limit:
            raise too_large(self.limit)
        self.archive.count(len(data))
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.handle.close()

    @property
    def closed(self) -> bool:
        return bool(self.handle.closed)

    def __enter__(self) -> _CountedPart:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_bounded_workbook(raw: IO[bytes], *, limit: int | None = None) -> Any:
    """openpyxl's read-only, values-only workbook, read through a BoundedZipFile."""
    from openpyxl.reader.excel import ExcelReader

    archive = BoundedZipFile(raw, limit=limit or max_unpacked_bytes())  # checks the directory before openpyxl reads
    reader = ExcelReader(raw, read_only=True, data_only=True)
    reader.archive.close()  # openpyxl's own, unbounded; `raw` stays open
    reader.archive, reader.valid_files = archive, archive.namelist()
    try:
        reader.read()
    except ValueError as exc:  # openpyxl wraps what stopped it in a ValueError of its own
        if isinstance(exc.__cause__, WorkbookTooLarge):
            raise exc.__cause__ from None
        raise
    return reader.wb
