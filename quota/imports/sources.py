"""Reading CSV and XLSX files as a stream of rows, whatever their encoding and delimiter.

A source yields `(row_number, {column: value})` one row at a time, so memory does not grow with the
file. Row numbers are what a spreadsheet shows: the header is row 1, the first record row 2.

What a file may hold is bounded, whoever imports it: text without NUL characters and lines of at
most MAX_LINE_CHARS (CSV), at most `max_columns` columns (the pages ask for fewer, so their mapping
form stays small), at most Excel's 1,048,576 rows in a sheet, and a workbook that unpacks to at
most `xlsx.max_unpacked_bytes()` (see `xlsx`: zip bombs).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from quota.imports.xlsx import WorkbookTooLarge, check_archive, load_bounded_workbook, max_unpacked_bytes

NUL = "\x00"
SNIFF_BYTES = 64 * 1024
CHUNK_BYTES = 256 * 1024
DELIMITERS = (",", ";", "\t", "|")
# A cell larger than this is refused (the csv module's own guard, raised from 128 KB).
MAX_CELL_CHARS = 1024 * 1024
csv.field_size_limit(MAX_CELL_CHARS)
# A physical line longer than this is refused before it is split: a line of a million delimiters is no table.
MAX_LINE_CHARS = 4 * MAX_CELL_CHARS
MAX_COLUMNS = 16_384  # Excel's; the import pages take far fewer (forms.max_columns)
MAX_SHEET_ROWS = 1_048_576  # Excel's: a sheet that numbers its rows past this is damaged

# Letters cp1250 makes of bytes that Western (cp1252) text shows as symbols: evidence of Central European text.
CENTRAL_EUROPEAN_ONLY = set("ąĄłŁżŻľĽ")

Row = dict[str, Any]
FileInput = str | os.PathLike[str] | IO[bytes]


class SourceError(Exception):
    """The file cannot be read as a table; the message says why in one line."""


@dataclass
class SourceInfo:
    name: str
    format: str
    encoding: str = ""
    delimiter: str = ""
    encoding_note: str = ""  # set when the file was not UTF-8 and a fallback was guessed
    header: list[str] = field(default_factory=list)


class Source:
    """One table: its header and an iterator over its rows (call `rows()` once per pass)."""

    def __init__(
        self,
        file: FileInput,
        *,
        name: str | None = None,
        sheet: str | None = None,
        encoding: str | None = None,
        delimiter: str | None = None,
        max_columns: int = MAX_COLUMNS,
    ) -> None:
        self.file = file
        self.sheet = sheet
        self.max_columns = max_columns
        self.forced_encoding, self.forced_delimiter = encoding, delimiter
        try:
            self.info = SourceInfo(name=name or _name_of(file), format=_format_of(file, name))
            if self.info.format == "xlsx":
                self.info.header = self._xlsx_header()
            else:
                self._detect_csv()
        except OSError as exc:
            raise SourceError(f"cannot open {name or _name_of(file)}: {exc.strerror or exc}") from exc

    # ------------------------------------------------------------------ CSV

    def _detect_csv(self) -> None:
        with _open_binary(self.file) as raw:
            sample = raw.read(SNIFF_BYTES)
            if self.forced_encoding:
                encoding, note = _known_codec(self.forced_encoding), ""
            else:
                encoding, note = _detect_encoding(sample, raw)
        self.info.encoding, self.info.encoding_note = encoding, note
        text_sample = sample.decode(encoding, errors="replace").lstrip("\ufeff")
        self.info.delimiter = self.forced_delimiter or _sniff_delimiter(text_sample)
        if len(self.info.delimiter) != 1:
            raise SourceError(f"the delimiter must be one character, not {self.info.delimiter!r}")
        header = next(self._csv_records(), None)
        if header is None or not any(cell.strip() for cell in header):
            raise SourceError("the file is empty: there is no header row")
        self.info.header = _clean_header(self._capped(header))

    def _csv_records(self) -> Iterator[list[str]]:
        with _open_binary(self.file) as raw:
            text = io.TextIOWrapper(raw, encoding=self.info.encoding, errors="strict", newline="")
            try:
                yield from csv.reader(_checked_lines(text), delimiter=self.info.delimiter, strict=False)
            except csv.Error as exc:
                raise SourceError(f"not a readable CSV table: {exc}") from exc
            except UnicodeDecodeError as exc:
                raise SourceError(f"not valid {self.info.encoding} text: {exc.reason} at byte {exc.start}") from exc
            finally:
                text.detach()

    # ------------------------------------------------------------------ XLSX

    def _xlsx_rows(self, width: int) -> Iterator[tuple[Any, ...]]:
        """The sheet's rows, `width` cells each (cells further right are not read, however wide a row claims to be)."""
        try:
            with _open_binary(self.file) as raw:
                workbook = load_bounded_workbook(raw)
                try:
                    sheet = workbook[self.sheet] if self.sheet else workbook.worksheets[0]
                    sheet.reset_dimensions()  # the size a sheet declares may lie; its rows say how many there are
                    for number, row in enumerate(sheet.iter_rows(values_only=True, max_col=width), start=1):
                        if number > MAX_SHEET_ROWS:
                            raise SourceError(f"the sheet has rows past row {MAX_SHEET_ROWS:,}, Excel's last: a damaged file?")
                        yield row
                finally:
                    workbook.close()
        except KeyError as exc:
            raise SourceError(f"the workbook has no sheet {self.sheet!r}") from exc
        except WorkbookTooLarge as exc:
            raise SourceError(str(exc)) from exc
        except SourceError:
            raise
        except Exception as exc:  # openpyxl raises many kinds (zip, XML, value) for a damaged workbook
            raise SourceError(f"not a readable XLSX workbook: {exc}") from exc

    def _xlsx_header(self) -> list[str]:
        # One cell more than the limit: enough to know the header is too wide, without reading it all.
        header = next(self._xlsx_rows(self.max_columns + 1), None)
        if header is None or not any(cell not in (None, "") for cell in header):
            raise SourceError("the sheet is empty: there is no header row")
        named = ["" if cell is None else str(cell) for cell in header]
        return _clean_header(self._capped(named[: _named_width(named)], exact=False))

    def _capped(self, header: list[str], *, exact: bool = True) -> list[str]:
        """The header, if it has at most `max_columns` columns (an XLSX header is read one cell past that: not `exact`)."""
        width = _named_width(header)
        if width > self.max_columns:
            count = f"{width:,}" if exact else f"more than {self.max_columns:,}"
            raise SourceError(
                f"the file has {count} columns; an import takes at most {self.max_columns:,} (remove the ones not imported)"
            )
        return header

    # ------------------------------------------------------------------ rows

    def rows(self) -> Iterator[tuple[int, Row]]:
        """Each record as (row number, {column: value}); blank lines are skipped."""
        header = self.info.header
        records: Iterator[Any] = self._xlsx_rows(len(header)) if self.info.format == "xlsx" else self._csv_records()
        next(records, None)
        for number, record in enumerate(records, start=2):
            if not any(cell not in (None, "") for cell in record):
                continue
            row = {column: (record[i] if i < len(record) else None) for i, column in enumerate(header) if column}
            if len(record) > len(header) and any(cell not in (None, "") for cell in record[len(header) :]):
                row[EXTRA_CELLS] = len(record) - len(header)
            yield number, row


# A row with more cells than the header has them counted under this key, so the engine can say so.
EXTRA_CELLS = "\x00extra"


def _checked_lines(text: IO[str]) -> Iterator[str]:
    """The text's lines for the csv reader, refusing a NUL character or a line too long to be a table's row."""
    for number, line in enumerate(iter(lambda: text.readline(MAX_LINE_CHARS + 1), ""), start=1):
        if len(line) > MAX_LINE_CHARS:
            raise SourceError(f"line {number:,} is longer than {MAX_LINE_CHARS:,} characters: not a table's row")
        if NUL in line:
            raise SourceError(
                f"line {number:,} holds a NUL character (\\0): the file is binary, or not in the encoding it was read in; "
                "save it again as CSV text"
            )
        yield line


def _named_width(header: list[str]) -> int:
    """How many columns the header spans, up to its last named one (blank cells after it are no columns)."""
    return next((index + 1 for index in range(len(header) - 1, -1, -1) if header[index].strip()), 0)


def _name_of(file: FileInput) -> str:
    if isinstance(file, str | os.PathLike):
        return Path(file).name
    return str(getattr(file, "name", "") or "upload")


def _format_of(file: FileInput, name: str | None) -> str:
    label = (name or _name_of(file)).lower()
    if label.endswith((".xlsx", ".xlsm")):
        return "xlsx"
    with _open_binary(file) as raw:
        return "xlsx" if raw.read(4) == b"PK\x03\x04" and not label.endswith((".csv", ".txt", ".tsv")) else "csv"


class _open_binary:
    """Open a path, or rewind an already open binary file (an upload) without closing it."""

    def __init__(self, file: FileInput) -> None:
        self.file = file
        self.owned = isinstance(file, str | os.PathLike)

    def __enter__(self) -> IO[bytes]:
        if self.owned:
            self.handle: IO[bytes] = open(cast("str | os.PathLike[str]", self.file), "rb")
        else:
            self.handle = self.file  # type: ignore[assignment]
            self.handle.seek(0)
        return self.handle

    def __exit__(self, *exc: object) -> None:
        if self.owned:
            self.handle.close()


def _detect_encoding(sample: bytes, raw: IO[bytes]) -> tuple[str, str]:
    """UTF-8 (with or without BOM) or UTF-16 when the bytes say so; otherwise a reported single-byte guess.

    The whole file is checked for UTF-8 in chunks (constant memory), because a file can be ASCII for
    thousands of rows and hold one Latin-2 name near the end.
    """
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", ""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample)
        while chunk := raw.read(CHUNK_BYTES):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        guess = _guess_single_byte(raw)
        return guess, f"not valid UTF-8; read as {guess} (check accented letters in the result)"
    return ("utf-8-sig" if sample.startswith(codecs.BOM_UTF8) else "utf-8"), ""


def _known_codec(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise SourceError(f"unknown encoding {name!r}") from None


def _guess_single_byte(raw: IO[bytes]) -> str:
    """cp1250 (Central European) when the text has letters only it makes of those bytes, else Western.

    Most high bytes are letters in both code pages (0xF1 is ñ or ń), so only the bytes Western
    Windows text shows as symbols count as evidence: ą ł ż ľ (¹ ³ ¿ ¾ in cp1252), and only inside a
    word, so a price in pounds (£, which cp1250 reads as Ł) does not count.
    """
    raw.seek(0)
    evidence, western_ok = 0, True
    while chunk := raw.read(CHUNK_BYTES):  # single-byte code pages: chunks decode independently
        text = chunk.decode("cp1250", errors="replace")
        evidence += sum(
            1
            for i, ch in enumerate(text)
            if ch in CENTRAL_EUROPEAN_ONLY
            and ((i > 0 and text[i - 1].isalpha()) or (i + 1 < len(text) and text[i + 1].isalpha()))
        )
        try:
            chunk.decode("cp1252")
        except UnicodeDecodeError:
            western_ok = False
    if evidence:
        return "cp1250"
    return "cp1252" if western_ok else "latin-1"  # only latin-1 maps the five bytes cp1252 leaves undefined


def _sniff_delimiter(sample: str) -> str:
    """The delimiter that splits the first lines into the most columns, the same number on each line."""
    lines = [line for line in sample.splitlines()[:20] if line.strip()]
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may end mid-line
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        try:
            widths = [len(r) for r in csv.reader(lines, delimiter=delimiter)]
        except csv.Error:
            continue
        if not widths or widths[0] < 2:
            continue
        consistent = sum(w == widths[0] for w in widths)
        score = (consistent, widths[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _clean_header(header: list[str]) -> list[str]:
    """Trimmed column names; a repeated name gets a suffix so no column silently hides another (blank ones stay blank)."""
    seen: dict[str, int] = {}
    cleaned: list[str] = []
    for cell in header:
        name = cell.strip().lstrip("\ufeff")
        if not name:  # a blank header cell names no column: its cells are not read
            cleaned.append(name)
            continue
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        cleaned.append(name)
    return cleaned


def check_upload(file: FileInput, *, name: str, encoding: str | None = None) -> None:
    """What can be checked of a file without reading it: the encoding's name, and a workbook's zip directory.

    The import pages run this in the upload request; reading the file is left to the worker.
    """
    if encoding:
        _known_codec(encoding)
    if _format_of(file, name) != "xlsx":
        return
    try:
        with _open_binary(file) as raw, zipfile.ZipFile(raw) as archive:
            check_archive(archive, max_unpacked_bytes())
    except WorkbookTooLarge as exc:
        raise SourceError(str(exc)) from exc
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise SourceError(f"not a readable XLSX workbook: {exc}") from exc
