"""Tables as files: CSV and XLSX, streamed, for record lists, KPI tables and scheduled reports alike.

One writer serves every table, and a workbook of several (a report: one sheet per part). A table is
its columns (a label and a kind) and its rows of plain Python values (text, numbers, dates, booleans,
None), read lazily: a list of a million deals is written while its rows are read, and neither format
holds more than a chunk of them in memory.

- CSV streams as it is written: UTF-8 with a byte-order mark (so Excel reads Polish, Russian and
  Persian), numbers with a dot, dates in ISO 8601, datetimes in the company's time zone.
- XLSX is written by openpyxl's write-only mode into a temporary file (its rows go to disk, not
  memory), which is then streamed. Values keep their types: numbers are numbers (money with two
  decimals, or whole units as reports show it; rates as percentages), dates are dates; a column whose
  rows differ (a KPI summary's values) holds `Typed` values. A sheet holds at most Excel's 1,048,576
  rows: a longer table ends with a row saying so, and CSV has it all.

Text that a spreadsheet would run as a formula (starting with =, +, -, @, a tab or a carriage
return) is prefixed with an apostrophe in both formats (CSV injection).
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import IO, Any

from django.db import models
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponseBase, StreamingHttpResponse
from django.utils import timezone
from django.utils.text import capfirst, slugify
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXCEL_MAX_ROWS = 1_048_576  # rows in one Excel sheet, the header included
CHUNK_SIZE = 2_000  # rows read from the database at a time, and rows per streamed CSV chunk
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_SHEET_TITLE = 31


class Kind(StrEnum):
    """What a column holds, which decides its XLSX number format."""

    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    MONEY = "money"  # two decimals; the currency is in its own column or in the header
    WHOLE_MONEY = "whole_money"  # shown in whole units, as KPI pages and reports show money; the cell keeps its cents
    PERCENT = "percent"  # a fraction: 0.25 is 25 %
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"


NUMBER_FORMATS = {
    Kind.INTEGER: "#,##0",
    Kind.NUMBER: "#,##0.0#",
    Kind.MONEY: "#,##0.00",
    Kind.WHOLE_MONEY: "#,##0",
    Kind.PERCENT: "0.0%",
    Kind.DATE: "yyyy-mm-dd",
    Kind.DATETIME: "yyyy-mm-dd hh:mm",
}


@dataclass(frozen=True)
class ExportColumn:
    label: str
    kind: Kind = Kind.TEXT


@dataclass(frozen=True)
class Typed:
    """A value that says its own kind, in a column whose rows differ (a KPI summary: money, rates, counts)."""

    value: Any
    kind: Kind


@dataclass(frozen=True)
class ExportTable:
    """What to write: `rows(limit)` gives at most `limit` rows (all of them for None), lazily."""

    name: str  # the file name's stem ("deals"), and the sheet's title unless it has one
    columns: Sequence[ExportColumn]
    rows: Callable[[int | None], Iterable[Sequence[Any]]]
    title: str = ""  # the sheet's title
    # XLSX only (CSV is a table for machines): rows above the header, the first one the sheet's title in large
    # type ("Weekly sales", "As of", ...), and a note below the rows ("The first 50 of 73.").
    heading: Sequence[Sequence[Any]] = ()
    footnote: str = ""


def table_of_rows(
    name: str,
    columns: Sequence[ExportColumn],
    rows: Sequence[Sequence[Any]],
    *,
    title: str = "",
    heading: Sequence[Sequence[Any]] = (),
    footnote: str = "",
) -> ExportTable:
    """A table whose rows are already in memory (a KPI's months, a report's part)."""
    return ExportTable(name, columns, lambda limit: rows[:limit], title=title, heading=heading, footnote=footnote)


class UnknownFormat(ValueError):
    pass


def export_response(table: ExportTable, fmt: str) -> HttpResponseBase:
    """The table as a download in `fmt` ("csv" or "xlsx")."""
    if fmt == "csv":
        return csv_response(table)
    if fmt == "xlsx":
        return xlsx_response(table)
    raise UnknownFormat(_("Unknown export format “%(format)s”: use csv or xlsx.") % {"format": fmt})


def file_name(table: ExportTable, fmt: str) -> str:
    """deals-2026-11-24.csv: the table's name and the company's today."""
    return f"{slugify(table.name) or 'export'}-{timezone.localdate().isoformat()}.{fmt}"


def safe_text(text: str) -> str:
    """Text a spreadsheet shows as text, never runs as a formula."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


# --------------------------------------------------------------------------- CSV


class _Echo:
    """A file whose write() returns what it is given: csv.writer then formats one row at a time."""

    def write(self, value: str) -> str:
        return value


class _CsvValue:
    """Plain text for one value: ISO dates, numbers with a dot, yes/no in the user's language.

    The language and time zone are read when the response is made: the rows are written later,
    while the response streams, outside the request's middleware.
    """

    def __init__(self) -> None:
        self.zone = timezone.get_current_timezone()
        self.yes, self.no = _("Yes"), _("No")

    def __call__(self, value: Any) -> str:
        if isinstance(value, Typed):
            value = value.value
        if value is None:
            return ""
        if isinstance(value, bool):
            return self.yes if value else self.no
        if isinstance(value, dt.datetime):
            if timezone.is_aware(value):
                value = value.astimezone(self.zone)
            return value.replace(tzinfo=None).isoformat(sep=" ", timespec="minutes")
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, Decimal):
            return format(value, "f")
        if isinstance(value, int | float):
            return repr(value)
        return safe_text(str(value))


def csv_chunks(table: ExportTable) -> Iterator[str]:
    text = _CsvValue()
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield "\ufeff" + writer.writerow([safe_text(column.label) for column in table.columns])
    lines: list[str] = []
    for row in table.rows(None):
        lines.append(writer.writerow([text(value) for value in row]))
        if len(lines) >= CHUNK_SIZE:
            yield "".join(lines)
            lines.clear()
    if lines:
        yield "".join(lines)


def csv_response(table: ExportTable) -> StreamingHttpResponse:
    chunks = csv_chunks(table)
    # The header and the first rows are read now, in the request: a query the database refuses is an
    # error response, not a download that stops after its 200.
    started = list(itertools.islice(chunks, 2))
    response = StreamingHttpResponse(itertools.chain(started, chunks), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{file_name(table, "csv")}"'
    return response


# --------------------------------------------------------------------------- XLSX


def xlsx_response(table: ExportTable) -> FileResponse:
    # On disk: memory stays flat however long the table is. The response closes (and so deletes) it.
    file = tempfile.TemporaryFile()  # noqa: SIM115
    try:
        write_xlsx(table, file)
    except BaseException:
        file.close()
        raise
    file.seek(0)
    return FileResponse(file, as_attachment=True, filename=file_name(table, "xlsx"), content_type=XLSX_CONTENT_TYPE)


def write_xlsx(table: ExportTable, file: IO[bytes]) -> None:
    write_workbook([table], file)


def write_workbook(tables: Iterable[ExportTable], file: IO[bytes]) -> None:
    """One sheet per table, in order; titles made unique ("Won deals (2)") where two tables share one."""
    book = Workbook(write_only=True)
    titles: set[str] = set()
    for table in tables:
        _write_sheet(book.create_sheet(sheet_title(table.title or table.name, taken=titles)), table)
    if not titles:
        raise ValueError("A workbook needs at least one table.")
    book.save(file)


def _write_sheet(sheet: WriteOnlyWorksheet, table: ExportTable) -> None:
    # Widths and panes first: a write-only sheet writes them out with its first row.
    for index, column in enumerate(table.columns):
        sheet.column_dimensions[get_column_letter(index + 1)].width = 32 if column.kind == Kind.TEXT else 16
    above = len(table.heading) + bool(table.heading)  # the heading and a blank row after it
    sheet.freeze_panes = f"A{above + 2}"  # the header stays in view
    zone = timezone.get_current_timezone()
    for number, line in enumerate(table.heading):
        sheet.append([_xlsx_cell(sheet, value, None, zone, TITLE_FONT if number == 0 else None) for value in line])
    if table.heading:
        sheet.append([])  # a blank row between what the sheet is and its table
    sheet.append([_xlsx_cell(sheet, column.label, None, zone, HEADER_FONT) for column in table.columns])
    formats = [NUMBER_FORMATS.get(column.kind) for column in table.columns]
    # Rows left below the heading and the header, and above a last one: the footnote, or a note that the table was cut.
    room = EXCEL_MAX_ROWS - above - 2
    for written, row in enumerate(table.rows(room + 1)):
        if written == room:
            note = _("Only the first %(count)s rows fit in an Excel sheet; export CSV for all of them.")
            sheet.append([note % {"count": room}])
            return
        sheet.append([_xlsx_cell(sheet, value, number_format, zone) for value, number_format in zip(row, formats, strict=True)])
    if table.footnote:
        sheet.append([xlsx_text(table.footnote)])


TITLE_FONT = Font(bold=True, size=14)
HEADER_FONT = Font(bold=True)


def _xlsx_cell(
    sheet: WriteOnlyWorksheet, value: Any, number_format: str | None, zone: dt.tzinfo, font: Font | None = None
) -> Any:
    if isinstance(value, Typed):
        value, number_format = value.value, NUMBER_FORMATS.get(value.kind)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        value = xlsx_text(value)
        number_format = None
    elif isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = value.astimezone(zone)
        value = value.replace(tzinfo=None)  # Excel has no time zones
        number_format = NUMBER_FORMATS[Kind.DATETIME]
    elif isinstance(value, dt.date):
        number_format = NUMBER_FORMATS[Kind.DATE]
    elif not isinstance(value, int | float | Decimal):
        value, number_format = xlsx_text(str(value)), None
    if number_format is None and font is None:
        return value
    cell = WriteOnlyCell(sheet, value=value)
    if number_format is not None:
        cell.number_format = number_format
    if font is not None:
        cell.font = font
    return cell


def xlsx_text(text: str) -> str:
    """Text as a cell holds it: openpyxl refuses control characters and writes text starting with "=" as a
    formula; XML reads a carriage return as a line break, so line breaks are Excel's own (\n)."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text).replace("\r\n", "\n")
    return safe_text(text).replace("\r", "\n")


ABBREVIATED_WORD = 4  # letters kept of a word abbreviated in a sheet name, before its "."


def sheet_title(*parts: Any, taken: set[str] | None = None) -> str:
    """A valid sheet name from its parts ("Won deals", "Last week"): no []:*?/\\, at most 31 characters.

    Parts too long together have their long words abbreviated, the first part's first and the longest first
    ("Największe wygrane – Od początku miesiąca" becomes "Najw. wygr. – Od pocz. miesiąca"), so that names
    which share their first words still differ; a part still too long is cut and marked with …, never the last
    part alone ("Won deals (top 10) – M"). A name in `taken` gets " (2)", " (3)" ...; the name given is added to it.
    """
    texts = [re.sub(r"[\[\]:*?/\\]", "-", str(part)).strip() for part in parts]
    texts = [text for text in texts if text] or ["Sheet"]
    taken = set() if taken is None else taken
    title, number = _fit(texts, MAX_SHEET_TITLE), 2
    while title in taken:
        suffix = f" ({number})"
        title, number = _fit(texts, MAX_SHEET_TITLE - len(suffix)) + suffix, number + 1
    taken.add(title)
    return title


def _fit(texts: list[str], limit: int) -> str:
    """The parts joined within `limit`: long words abbreviated first (the first part's, longest first: "sprzedaży"
    -> "sprz."), so that names sharing their first words still differ; then, if need be, the longest part cut
    and marked with …"""
    separator = " – "
    words = [text.split(" ") for text in texts]
    joined = lambda: separator.join(" ".join(part) for part in words)  # noqa: E731
    # The first part (what the sheet holds) gives way before the later ones (the period it is for).
    candidates = sorted(
        ((p, w) for p, part in enumerate(words) for w, word in enumerate(part) if len(word) > ABBREVIATED_WORD + 1),
        key=lambda pw: (pw[0], -len(words[pw[0]][pw[1]])),
    )
    for p, w in candidates:
        if len(joined()) <= limit:
            break
        words[p][w] = words[p][w][:ABBREVIATED_WORD] + "."
    texts = [" ".join(part) for part in words]
    while len(separator.join(texts)) > limit:
        longest = max(range(len(texts)), key=lambda index: len(texts[index]))
        excess = len(separator.join(texts)) - limit
        keep = max(len(texts[longest]) - excess - 1, 1)
        if keep >= len(texts[longest]) - 1 and len(texts[longest]) <= 2:
            return separator.join(texts)[:limit].strip()  # nothing left to shorten part by part
        texts[longest] = texts[longest][:keep].rstrip() + "…"
    return separator.join(texts)


# --------------------------------------------------------------------------- record lists


@dataclass(frozen=True)
class _Getter:
    """How one export column reads its value from a record."""

    path: tuple[str, ...]  # attributes from the record; () is the record itself
    text: bool = False  # str() of what is found (a related record, the record itself)
    choices: dict[Any, str] | None = None  # a choice field's labels, in the user's language
    empty: str | None = None  # shown for an empty value (a link column's "(untitled)")

    def __call__(self, record: Any) -> Any:
        value = record
        for part in self.path:
            value = getattr(value, part, None)
            if value is None:
                break
        if callable(value) and not isinstance(value, models.Model):
            value = value()
        if self.choices is not None and value is not None:
            value = self.choices.get(value, value)
        if self.text and value is not None:
            value = str(value)
        if self.empty is not None and value in (None, ""):
            value = self.empty
        return value


def _model_field(model: type[models.Model], path: Sequence[str]) -> tuple[Any, type[models.Model] | None]:
    """The model field at the end of `path`, and the model holding it (None, None for anything else)."""
    holder: Any = model
    found: Any = None
    for index, part in enumerate(path):
        try:
            found = holder._meta.get_field(part)
        except Exception:
            return None, None
        if index < len(path) - 1:
            if not found.is_relation or found.related_model is None:
                return None, None
            holder = found.related_model
    return found, holder


def _kind(model_field: Any, holder: type[models.Model] | None) -> Kind:
    output = getattr(model_field, "output_field", None) or model_field  # a GeneratedField's type
    if isinstance(output, models.BooleanField):
        return Kind.BOOLEAN
    if isinstance(output, models.DateTimeField):
        return Kind.DATETIME
    if isinstance(output, models.DateField):
        return Kind.DATE
    if isinstance(output, models.DecimalField):
        has_currency = holder is not None and any(f.name == "currency" for f in holder._meta.concrete_fields)
        return Kind.MONEY if output.decimal_places == 2 and has_currency else Kind.NUMBER
    if isinstance(output, models.IntegerField):
        return Kind.INTEGER
    if isinstance(output, models.FloatField):
        return Kind.NUMBER
    return Kind.TEXT


def record_table(*, name: str, model: type[models.Model], headers: Sequence[Any], queryset: QuerySet) -> ExportTable:
    """A record list as an export: its columns (`Header`s of the list page) over its filtered, sorted queryset.

    The queryset is read with `.iterator()` in chunks, with the list's own select_related, so the
    number of queries does not grow with the rows. A money column is followed by its record's
    currency; choices are their labels and related records their names, in the user's language.
    """
    columns: list[ExportColumn] = []
    getters: list[_Getter] = []
    currencies: set[tuple[str, ...]] = set()
    untitled = _("(untitled)")
    for header in headers:
        accessor: str = header.column.accessor
        path = tuple(accessor.split(".")) if accessor else ()
        label = capfirst(str(header.label))
        model_field, holder = _model_field(model, path) if path else (None, None)
        if model_field is None and len(path) == 1 and path[0] in queryset.query.annotations:
            # A value the list computes (a deal's close date): typed by what the expression gives.
            model_field, holder = queryset.query.annotations[path[0]].output_field, model
        empty = untitled if header.column.link else None
        if model_field is None:  # the record itself, or a property: its text
            columns.append(ExportColumn(label))
            getters.append(_Getter(path, text=not path or header.column.link, empty=empty))
            continue
        if model_field.is_relation:
            columns.append(ExportColumn(label))
            getters.append(_Getter(path, text=True, empty=empty))
            continue
        if model_field.choices:
            labels = {value: str(text) for value, text in model_field.flatchoices}
            columns.append(ExportColumn(label))
            getters.append(_Getter(path, choices=labels, empty=empty))
            continue
        kind = _kind(model_field, holder)
        columns.append(ExportColumn(label, kind))
        getters.append(_Getter(path, text=header.column.link, empty=empty))
        if kind == Kind.MONEY and path[:-1] not in currencies:
            currencies.add(path[:-1])
            columns.append(ExportColumn(_("Currency")))
            getters.append(_Getter((*path[:-1], "currency")))

    def rows(limit: int | None) -> Iterator[list[Any]]:
        records = queryset if limit is None else queryset[:limit]
        for record in records.iterator(chunk_size=CHUNK_SIZE):
            yield [get(record) for get in getters]

    return ExportTable(name=name, columns=columns, rows=rows)
