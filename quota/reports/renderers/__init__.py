"""Turn a report's content into files: PDF (WeasyPrint), XLSX (openpyxl) and CSV.

Each renderer is a function `content -> bytes`; the registry is read at call time, so a format
can be swapped (tests slow one down to kill a worker mid-render).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.text import slugify

from quota.reports.content import ReportContent
from quota.reports.renderers.csvfile import render_csv
from quota.reports.renderers.pdf import render_pdf
from quota.reports.renderers.xlsx import render_xlsx


@dataclass(frozen=True)
class Renderer:
    render: Callable[[ReportContent], bytes]
    content_type: str


RENDERERS: dict[str, Renderer] = {
    "pdf": Renderer(render_pdf, "application/pdf"),
    "xlsx": Renderer(render_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "csv": Renderer(render_csv, "text/csv"),
}


def render(content: ReportContent, fmt: str) -> bytes:
    return RENDERERS[fmt].render(content)


def file_name(content: ReportContent, fmt: str) -> str:
    """weekly-sales-2025-03-03.pdf: the report's name and the day it is as of."""
    return f"{slugify(content.name) or 'report'}-{content.as_of.date().isoformat()}.{fmt}"
